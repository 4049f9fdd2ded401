using System.Net;
using Mailer.Cli;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using MimeKit;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups.Embedding;

/// <summary>
/// The form that <c>embed</c> prints, pasted into a page of another site (a second local origin, its own Kestrel),
/// filled and sent in Debian's Chromium: the browser lands on Mailer's "check your inbox" page and the real
/// confirmation mail is written to the pickup folder.
/// </summary>
public sealed class EmbeddedFormBrowserTests
{
    [Fact]
    public async Task TheEmbeddedForm_OnAnotherOrigin_EndsOnCheckYourInboxInGerman_LinksBack_AndTheConfirmationMailArrives()
    {
        Chromium.Find();    // skips (fails under CI=true) before anything starts
        await using var blog = await Blog.StartAsync();
        var mailerPort = ExternalProgram.FreePort();
        var mailerUrl = $"http://127.0.0.1:{mailerPort}";
        await using var app = new MailerAppFactory
        {
            Time = Clock(),
            RecordConfirmationMails = false,
            Settings = { ["Mailer:PublicBaseUrl"] = mailerUrl, ["Subscribers:AllowedOrigins:0"] = blog.Origin },
        };
        app.UseKestrel(mailerPort);
        app.StartServer();
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await OperatorCommands.RunAsync(app.Services, OperatorCommands.Parse(["embed"])!, output, error));
        blog.Article = $"""
            <!DOCTYPE html>
            <html lang="de"><head><meta charset="utf-8"><title>Der Blog</title></head>
            <body><article><h1>Meta-KI: So widersprichst du</h1><p>Lies weiter oder lass dich erinnern:</p>
            {output}
            </article></body></html>
            """;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        // An English browser: the embedded form is German (embed's default), so is the page it leads to.
        var page = await browser.NewPageAsync(new() { Locale = "en-US", ViewportSize = new() { Width = 390, Height = 844 } });
        await page.GotoAsync(blog.Origin + "/");
        await page.GetByLabel("Deine E-Mail-Adresse").FillAsync("berta@example.de");
        await page.GetByLabel("Facebook").UncheckAsync();
        var honeypot = await page.Locator("#mailer-website").BoundingBoxAsync();
        Assert.True(honeypot is null || honeypot.X + honeypot.Width <= 0, $"the honeypot is in sight at x={honeypot?.X}");
        await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath("embedded-form.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Anleitung anfordern" }).ClickAsync();
        await page.WaitForSelectorAsync("h1:has-text('Schau in dein Postfach')");
        await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath("embedded-check-inbox.png"), FullPage = true });

        Assert.StartsWith(mailerUrl + "/subscribe", page.Url, StringComparison.Ordinal);
        Assert.Equal("de", await page.GetAttributeAsync("html", "lang"));
        // The browser sent its Referer (the blog's origin, as Chromium does across origins), an allowed one: the way back.
        var back = page.GetByRole(AriaRole.Link, new() { Name = "Zurück zum Artikel" });
        Assert.Equal(blog.Origin + "/", await back.GetAttributeAsync("href"));

        var subscriber = (await app.Store.FindByEmailAsync("berta@example.de", Cancel))!;
        Assert.Equal((SubscriberStatus.Pending, "de"), (subscriber.Status, subscriber.Locale));
        Assert.Equal(["instagram"], subscriber.Platforms);
        Assert.Equal(ConsentSource.Form, Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).Source);

        await app.RunConfirmationJobsAsync();
        var mail = MimeMessage.Load(Assert.Single(Directory.GetFiles(app.OutboxDirectory, "*.eml")), Cancel);
        Assert.Equal("berta@example.de", Assert.Single(mail.To.Mailboxes).Address);
        Assert.Contains(mailerUrl + "/confirm/", mail.TextBody, StringComparison.Ordinal);

        await back.ClickAsync();
        await page.WaitForSelectorAsync("h1:has-text('Meta-KI: So widersprichst du')");
        Assert.Equal(blog.Origin + "/", page.Url);
    }

    /// <summary>The other site: one page, <see cref="Article"/>, at <c>/</c> on a port of its own.</summary>
    private sealed class Blog(WebApplication app, string origin) : IAsyncDisposable
    {
        public string Origin => origin;

        public string Article { get; set; } = "";

        public static async Task<Blog> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            Blog? blog = null;
            app.MapGet("/", () => Results.Content(blog!.Article, "text/html; charset=utf-8"));
            await app.StartAsync(Cancel);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return blog = new Blog(app, $"http://127.0.0.1:{address.Port}");
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync(Cancel);
            await app.DisposeAsync();
        }
    }
}
