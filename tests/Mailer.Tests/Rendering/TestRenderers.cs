using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Rendering;

/// <summary>Renderers over the real <c>templates/</c> (or a copy to break), with the campaign's settings.</summary>
internal static class TestRenderers
{
    public const string PostalAddress = "Verbraucherblog e. V., Musterstraße 1, 10115 Berlin";

    private static readonly Lazy<TemplateRenderer> RealTemplates = new(() => Create());

    /// <summary>One renderer over the real templates for all tests that only render.</summary>
    public static TemplateRenderer Shared => RealTemplates.Value;

    public static DateTimeOffset Berlin(int month, int day, int hour, int minute = 0) =>
        new(2024, month, day, hour, minute, 0, TimeSpan.FromHours(2));

    public static TemplateRenderer Create(string? templateDirectory = null, MailerOptions? mailer = null) =>
        new(
            Options.Create(new RenderingOptions { TemplateDirectory = templateDirectory ?? "templates" }),
            Options.Create(Campaign()),
            Options.Create(mailer ?? Mailer()),
            new FakeHostEnvironment(TestPaths.RepositoryRoot),
            NullLogger<TemplateRenderer>.Instance);

    public static CampaignOptions Campaign()
    {
        var campaign = new CampaignOptions();
        campaign.Platforms["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" };
        campaign.Platforms["instagram"] = new PlatformOptions { FormUrl = "https://help.instagram.com/contact/767264225370182" };
        return campaign;
    }

    public static MailerOptions Mailer() => new()
    {
        From = "Meta-KI-Widerspruch <kampagne@example.org>",
        PostalAddress = PostalAddress,
    };

    public static MailLinks Links(params string[] platforms) => new(
        "https://mailer.test/confirm/confirm-token",
        "https://mailer.test/unsubscribe/unsubscribe-token",
        platforms.ToDictionary(p => p, p => $"https://mailer.test/go/click-token/{p}"),
        platforms.ToDictionary(p => p, p => $"https://mailer.test/done/done-token/{p}"));

    /// <summary>A copy of the real templates in a fresh folder, to break on purpose.</summary>
    public static string CopyOfTemplates()
    {
        var target = TestPaths.NewTemporaryDirectory("templates");
        foreach (var file in Directory.GetFiles(TestPaths.Templates, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(TestPaths.Templates, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        return target;
    }

    private sealed class FakeHostEnvironment(string contentRoot) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Development;

        public string ApplicationName { get; set; } = "Mailer.Tests";

        public string ContentRootPath { get; set; } = contentRoot;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
