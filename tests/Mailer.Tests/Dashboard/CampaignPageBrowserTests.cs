using Mailer.Tests.Campaigns;
using Mailer.Tests.Observability;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Mailer.Tests.Dashboard;

/// <summary>The dashboard's campaign page in Debian's Chromium, headless: reached from the menu, one address looked up.</summary>
public class CampaignPageBrowserTests : IAsyncLifetime
{
    private static readonly string[] ChromiumArguments =
        ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private readonly string _data = TestPaths.NewTemporaryDirectory("campaign-browser");
    private TestSmtpServer _smtp = null!;

    public async ValueTask InitializeAsync() => _smtp = await CampaignMetricsTests.StartSmtpAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task CampaignPage_InChromium_FromTheMenu_LooksUpAnAddressAndShowsItsTimeline()
    {
        var chromium = FindChromium();
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, [], kestrel: true);
        var baseUrl = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ChromiumArguments });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var scripts = 0;
        page.Dialog += (_, dialog) => { scripts++; _ = dialog.DismissAsync(); };   // a reply's <script> must never run
        await page.GotoAsync(baseUrl + "/hangfire");
        await page.GetByRole(AriaRole.Link, new() { Name = "Campaign", Exact = true }).ClickAsync();
        await page.WaitForSelectorAsync("h1:has-text('Campaign')");

        Assert.Equal("11", await page.InnerTextAsync("tr[data-mailing='announcement'] td:nth-child(4)"));
        Assert.Contains("<script>alert('gone')</script>", await page.InnerTextAsync(".mailer-failures .mailer-reply"));

        await page.FillAsync("#mailer-email", "later0@example.net");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show timeline" }).ClickAsync();
        await page.WaitForSelectorAsync(".mailer-timeline");
        var timeline = await page.InnerTextAsync(".mailer-timeline");
        Assert.Contains("subscriber #", timeline);
        Assert.Contains("2 attempt(s)", timeline);
        Assert.Equal("later0@example.net", await page.InputValueAsync("#mailer-email"));
        Assert.Equal(0, scripts);

        var screenshots = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        var shot = Path.Combine(screenshots, "dashboard-campaign.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"Screenshot: {shot}");
        TestContext.Current.AddAttachment("screenshot path", shot);
    }

    /// <summary>Chromium from <c>MAILER_TEST_CHROMIUM</c> or Debian's package; never a downloaded browser.</summary>
    private static string FindChromium()
    {
        var configured = Environment.GetEnvironmentVariable("MAILER_TEST_CHROMIUM");
        var path = string.IsNullOrWhiteSpace(configured) ? "/usr/bin/chromium" : configured;
        ExternalProgram.Require(path, "chromium");
        return path;
    }
}
