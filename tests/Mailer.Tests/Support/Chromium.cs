using Microsoft.Playwright;

namespace Mailer.Tests.Support;

/// <summary>Debian's Chromium, headless, for the browser tests; never a browser Playwright downloads.</summary>
public static class Chromium
{
    private static readonly string[] Arguments =
        ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    /// <summary>Chromium from <c>MAILER_TEST_CHROMIUM</c> or Debian's package; a skip (a failure under <c>CI=true</c>) without it.</summary>
    public static string Find()
    {
        var configured = Environment.GetEnvironmentVariable("MAILER_TEST_CHROMIUM");
        var path = string.IsNullOrWhiteSpace(configured) ? "/usr/bin/chromium" : configured;
        return ExternalProgram.Require(path, "chromium");
    }

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new() { ExecutablePath = Find(), Headless = true, Args = Arguments });

    /// <summary>Where the browser tests put their screenshots: <c>TestResults/screenshots/</c> in the repository.</summary>
    public static string ScreenshotPath(string name)
    {
        var folder = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
