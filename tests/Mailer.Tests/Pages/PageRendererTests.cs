using Mailer.Pages;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Scriban.Runtime;

namespace Mailer.Tests.Pages;

public class PageRendererTests
{
    public static TheoryData<string, string> Pages()
    {
        var data = new TheoryData<string, string>();
        foreach (var page in new[] { "signup", "check-inbox", "confirmed", "link-invalid", "link-expired", "unsubscribe", "unsubscribed", "done", "done-recorded", "too-many" })
        {
            data.Add(page, "de");
            data.Add(page, "en");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryPage_RendersInBothLanguages_WithATitleAndEscapedValues(string page, string locale)
    {
        await using var app = new MailerAppFactory();
        var renderer = app.Services.GetRequiredService<PageRenderer>();

        var html = renderer.Render(page, locale, Values(renderer, locale, hostile: "<script>alert(1)</script>"));

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains($"<html lang=\"{locale}\">", html);
        Assert.Matches("<title>[^<]+</title>", html);
        Assert.DoesNotContain("<script>", html);
    }

    [Fact]
    public async Task ConsentTextVersion_NamesTheTextShown_AndChangesWithIt()
    {
        await using var app = new MailerAppFactory();
        var root = TestPaths.NewTemporaryDirectory("content-root");
        var pages = Path.Combine(root, "templates", "pages");
        Directory.CreateDirectory(pages);
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Templates, "pages")))
        {
            File.Copy(file, Path.Combine(pages, Path.GetFileName(file)));
        }

        try
        {
            var renderer = ActivatorUtilities.CreateInstance<PageRenderer>(app.Services, new TestEnvironment(root));
            var before = renderer.ConsentTextVersion("de");
            File.AppendAllText(Path.Combine(pages, "consent.de.html.sbn"), "<p>Neu.</p>\n");
            File.SetLastWriteTimeUtc(Path.Combine(pages, "consent.de.html.sbn"), DateTime.UtcNow.AddMinutes(1));
            var after = renderer.ConsentTextVersion("de");

            Assert.Matches("^2024-05/de/[0-9a-f]{8}$", before);
            Assert.NotEqual(before, after);
            Assert.Contains("Neu.", renderer.Render("signup", "de", Values(renderer, "de", hostile: "x")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ScriptObject Values(PageRenderer renderer, string locale, string hostile)
    {
        var values = new ScriptObject();
        renderer.AddCommonValues(values, locale);
        var errors = new ScriptObject { ["email"] = "invalid", ["platforms"] = "missing", ["locale"] = null, ["form"] = "expired" };
        values["antiforgery_field"] = "__RequestVerificationToken";
        values["antiforgery_token"] = hostile;
        values["email"] = hostile;
        values["platforms"] = new[] { new ScriptObject { ["name"] = "facebook", ["label"] = hostile, ["checked"] = true } };
        values["errors"] = errors;
        values["has_errors"] = true;
        values["honeypot_field"] = "website";
        values["return_url"] = "https://blog.example.org/" + hostile;
        values["action"] = "/unsubscribe/" + hostile;
        values["form_expired"] = true;
        values["platform"] = "facebook";
        values["platform_label"] = hostile;
        return values;
    }

    private sealed class TestEnvironment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";
        public string ApplicationName { get; set; } = "Mailer";
        public string ContentRootPath { get; set; } = root;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
