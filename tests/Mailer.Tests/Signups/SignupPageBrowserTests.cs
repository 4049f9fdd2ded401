using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

/// <summary>The signup page in a real browser: Debian's chromium, headless, driven by keyboard only.</summary>
public class SignupPageBrowserTests
{
    [Fact]
    public async Task SignupPage_FilledByKeyboardInChromium_ShowsCheckYourInbox_AndTheConfirmButtonConfirms()
    {
        Chromium.Find();    // skips (fails under CI=true) before anything starts
        await using var app = new MailerAppFactory { Time = Clock() };
        app.UseKestrel(0);
        app.StartServer();
        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { Locale = "de-DE", ViewportSize = new() { Width = 390, Height = 844 } });
        await page.GotoAsync(baseUrl + "/");
        Assert.Equal("de", await page.GetAttributeAsync("html", "lang"));
        Assert.Contains("noch 16 Tage", await page.InnerTextAsync(".deadline"));

        // Tab to the address field, type, untick Facebook with Space, keep Instagram, tab on to the button.
        for (var i = 0; i < 5 && await FocusedIdAsync(page) != "email"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("email", await FocusedIdAsync(page));
        await page.Keyboard.TypeAsync("anna@example.de");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("platform-facebook", await FocusedIdAsync(page));
        await page.Keyboard.PressAsync("Space");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("platform-instagram", await FocusedIdAsync(page));
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("standing-list", await FocusedIdAsync(page));   // unticked: the standing list is a choice of its own
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("BUTTON", await page.EvaluateAsync<string>("document.activeElement.tagName"));
        var screenshots = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        var form = Path.Combine(screenshots, "signup-form.png");
        await page.ScreenshotAsync(new() { Path = form, FullPage = true });

        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("h1:has-text('Schau in dein Postfach')");
        var inbox = Path.Combine(screenshots, "signup-check-inbox.png");
        await page.ScreenshotAsync(new() { Path = inbox, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"Screenshots: {form} {inbox} {Path.Combine(screenshots, "confirm-button.png")}");

        var subscriber = await app.Store.FindByEmailAsync("anna@example.de", Cancel);
        Assert.NotNull(subscriber);
        Assert.Equal(["instagram"], subscriber.Platforms);
        Assert.Equal(ConsentSource.Form, Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).Source);

        // The link in the mail opens a page with one button; opening it changes nothing, pressing it confirms.
        await app.RunConfirmationJobsAsync();
        var mail = Assert.Single(app.ConfirmationMails.All);
        await page.GotoAsync(baseUrl + MailerAppFactory.PathOf(mail.ConfirmUrl));
        await page.WaitForSelectorAsync("h1:has-text('Bitte bestätige deine Anmeldung')");
        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindAsync(subscriber.Id, Cancel))!.Status);
        var confirmPage = Path.Combine(screenshots, "confirm-button.png");
        await page.ScreenshotAsync(new() { Path = confirmPage, FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Ja, Anmeldung bestätigen" }).ClickAsync();
        await page.WaitForSelectorAsync("h1:has-text('Danke, du bist angemeldet!')");

        var confirmed = (await app.Store.FindAsync(subscriber.Id, Cancel))!;
        Assert.Equal(SubscriberStatus.Confirmed, confirmed.Status);
        Assert.Equal("127.0.0.1", Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).ConfirmIp);
    }

    private static Task<string> FocusedIdAsync(IPage page) => page.EvaluateAsync<string>("document.activeElement?.id ?? ''");
}
