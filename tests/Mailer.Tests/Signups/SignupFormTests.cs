using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

/// <summary>The signup page and its form, as a browser without JavaScript uses them.</summary>
public class SignupFormTests
{
    [Fact]
    public async Task SignupForm_ShowsCheckInboxPage_AndRecordsAFormConsent()
    {
        await using var app = new MailerAppFactory();
        var client = app.CreateClient();

        var response = await client.SubmitSignupFormAsync("anna@example.de", ["facebook"]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Schau in dein Postfach", await response.BodyAsync());
        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal(["facebook"], subscriber.Platforms);
        Assert.Equal(ConsentSource.Form, Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).Source);
        Assert.Equal(1, app.CapturedJobs.ConfirmationCount);
    }

    [Fact]
    public async Task SignupForm_WithInvalidAddress_ShowsTheErrorNextToTheFieldAndStoresNothing()
    {
        await using var app = new MailerAppFactory();

        var response = await app.CreateClient().SubmitSignupFormAsync("<script>alert(1)</script>", ["instagram"]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.BodyAsync();
        Assert.Contains("""<p class="error" id="email-error">""", html);
        Assert.Contains("""aria-invalid="true" aria-describedby="email-error" autofocus""", html);
        Assert.Contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("""value="instagram" checked""", html);
        Assert.DoesNotContain("""value="facebook" checked""", html);
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }

    [Fact]
    public async Task SignupForm_WithNoPlatformChosen_ShowsTheErrorAndStoresNothing()
    {
        await using var app = new MailerAppFactory();

        var response = await app.CreateClient().SubmitSignupFormAsync("anna@example.de", [], locale: "en");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Please choose at least one platform.", await response.BodyAsync());
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }

    [Fact]
    public async Task SignupForm_WithHoneypotFilled_LooksAcceptedAndStoresNothing()
    {
        await using var app = new MailerAppFactory();

        var response = await app.CreateClient().SubmitSignupFormAsync("bot@example.de", ["facebook"], honeypot: "https://spam.example");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Schau in dein Postfach", await response.BodyAsync());
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
        Assert.Equal(0, app.CapturedJobs.ConfirmationCount);
    }

    [Theory]
    [InlineData("/", null, "de")]
    [InlineData("/?lang=en", null, "en")]
    [InlineData("/?lang=de", "en-US,en;q=0.9", "de")]
    [InlineData("/", "en-US,en;q=0.9", "en")]
    [InlineData("/", "fr-FR, en;q=0.5, de;q=0.4", "en")]
    [InlineData("/", "de-AT", "de")]
    [InlineData("/", "fr-FR", "de")]
    [InlineData("/?lang=xx", "garbage;;;", "de")]
    public async Task SignupPage_IsGermanByDefault_EnglishByQueryOrAcceptLanguage(string path, string? acceptLanguage, string expected)
    {
        await using var app = new MailerAppFactory();
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }

        var response = await app.CreateClient().SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"<html lang=\"{expected}\">", await response.BodyAsync());
    }

    [Fact]
    public async Task SignupPage_ShowsDeadlineDaysLeftWhatComesPlatformsConsentAndAHiddenHoneypot()
    {
        await using var app = new MailerAppFactory { Time = Clock() };

        var response = await app.CreateClient().GetAsync("/", Cancel);
        var html = await response.BodyAsync();

        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("26. Mai 2024, 23:59 Uhr", html);
        Assert.Contains("noch 16 Tage", html);
        Assert.Contains("Eine Woche vor Fristende", html);
        Assert.Contains("""<label for="email">""", html);
        Assert.Contains("""<input type="checkbox" id="platform-facebook" name="platforms" value="facebook" checked>""", html);
        Assert.Contains("""<input type="checkbox" id="platform-instagram" name="platforms" value="instagram" checked>""", html);
        Assert.Contains("willigst du ein", html);
        Assert.Contains("""<div class="hp" aria-hidden="true">""", html);
        Assert.Contains("""name="website" tabindex="-1" autocomplete="off">""", html);
        // No antiforgery token: a signup needs none (SignupApi), and the same form works pasted into a blog.
        Assert.DoesNotContain("__RequestVerificationToken", html);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task SignupPage_OnTheLastDayAndAfter_SaysSo()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2024, 5, 26, 8, 0, 0, TimeSpan.Zero));
        await using var app = new MailerAppFactory { Time = clock };
        var client = app.CreateClient();

        Assert.Contains("heute ist der letzte Tag", await client.GetStringAsync("/", Cancel));
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Contains("The deadline passed on 26 May 2024", await client.GetStringAsync("/?lang=en", Cancel));
    }
}
