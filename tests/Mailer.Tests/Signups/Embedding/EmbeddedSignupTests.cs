using System.Net;
using System.Text.RegularExpressions;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.Options;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups.Embedding;

/// <summary>
/// The signup form pasted into another site: its plain POST is taken from any origin without an antiforgery token, the
/// JSON endpoint answers CORS for <c>Subscribers:AllowedOrigins</c> only, and the "check your inbox" page links back only there.
/// </summary>
public sealed partial class EmbeddedSignupTests
{
    private const string Blog = "https://blog.example.org";

    private static MailerAppFactory App() => new() { Settings = { ["Subscribers:AllowedOrigins:0"] = Blog, ["Subscribers:AllowedOrigins:1"] = "http://127.0.0.1:8080" } };

    private static HttpRequestMessage FormPost(string? origin, string? referer, params (string Name, string Value)[] extra)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe")
        {
            Content = new FormUrlEncodedContent([new("email", "anna@example.de"), new("platforms", "facebook"), new("locale", "de"), new("website", ""),
                .. extra.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]),
        };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (referer is not null)
        {
            request.Headers.TryAddWithoutValidation("Referer", referer);
        }

        return request;
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData(Blog)]
    [InlineData("null")]
    public async Task FormPost_FromAnotherOrigin_WithoutAntiforgeryTokenOrCookie_IsAcceptedAndConsentIsRecorded(string origin)
    {
        await using var app = App();

        var response = await app.CreateClient().SendAsync(FormPost(origin, origin + "/artikel"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Schau in dein Postfach", await response.BodyAsync());
        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal((SubscriberStatus.Pending, "de"), (subscriber.Status, subscriber.Locale));
        Assert.Equal(ConsentSource.Form, Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel)).Source);
        Assert.Equal(1, app.CapturedJobs.ConfirmationCount);
    }

    [Fact]
    public async Task FormPost_FromAnotherOrigin_WithTheHoneypotFilled_StillLooksAcceptedAndStoresNothing()
    {
        await using var app = App();

        var response = await app.CreateClient().SendAsync(FormPost("https://evil.example", null, ("website", "https://spam.example")), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Schau in dein Postfach", await response.BodyAsync());
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }

    [Fact]
    public async Task ConfirmButton_PostedWithoutItsAntiforgeryToken_StillConfirmsNothing()
    {
        await using var app = App();
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        using var request = new HttpRequestMessage(HttpMethod.Post, MailerAppFactory.PathOf(app.Links.ConfirmUrl(id))) { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("Origin", Blog);

        var response = await app.CreateClient().SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Theory]
    [InlineData(Blog, true)]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("https://evil.example", false)]
    [InlineData("http://blog.example.org", false)]
    [InlineData("https://blog.example.org:8443", false)]
    [InlineData("https://sub.blog.example.org", false)]
    [InlineData("null", false)]
    public async Task Preflight_IsAnsweredForAllowedOriginsOnly(string origin, bool allowed)
    {
        await using var app = App();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/subscribe");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        var response = await app.CreateClient().SendAsync(request, Cancel);

        Assert.True(response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK, $"{(int)response.StatusCode}");
        if (allowed)
        {
            Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods"));
            Assert.Contains("content-type", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
        }
        else
        {
            Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        }

        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }

    [Theory]
    [InlineData(Blog, true)]
    [InlineData("https://evil.example", false)]
    public async Task JsonSignup_CarriesAllowOrigin_ForAnAllowedOriginOnly(string origin, bool allowed)
    {
        await using var app = App();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = "anna@example.de", platforms = new[] { "facebook" } }),
        };
        request.Headers.Add("Origin", origin);

        var response = await app.CreateClient().SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var allowOrigin = response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? string.Join(",", values) : null;
        Assert.Equal(allowed ? origin : null, allowOrigin);
    }

    [Fact]
    public async Task OtherEndpoints_AnswerNoCors_EvenToAnAllowedOrigin()
    {
        await using var app = App();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/"), (HttpMethod.Options, MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id))),
            (HttpMethod.Get, "/healthz"), (HttpMethod.Get, MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id))) })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Add("Origin", Blog);
            request.Headers.Add("Access-Control-Request-Method", "POST");

            var response = await app.CreateClient().SendAsync(request, Cancel);

            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"{method} {path}");
        }
    }

    [Theory]
    [InlineData("https://blog.example.org/2024/meta-ki?x=1#formular", null, "https://blog.example.org/2024/meta-ki?x=1#formular")]
    [InlineData(null, "https://blog.example.org/2024/meta-ki", "https://blog.example.org/2024/meta-ki")]
    [InlineData(null, "http://127.0.0.1:8080/", "http://127.0.0.1:8080/")]
    [InlineData("https://evil.example/phish", "https://blog.example.org/artikel", "https://blog.example.org/artikel")]
    [InlineData("https://evil.example/phish", null, null)]
    [InlineData(null, "https://evil.example/", null)]
    [InlineData("javascript:alert(document.cookie)", null, null)]
    [InlineData("JavaScript://blog.example.org/%0aalert(1)", null, null)]
    [InlineData("data:text/html,<script>alert(1)</script>", null, null)]
    [InlineData("//evil.example/", null, null)]
    [InlineData("/\\evil.example", null, null)]
    [InlineData("https://blog.example.org@evil.example/", null, null)]
    [InlineData("https://blog.example.org.evil.example/", null, null)]
    [InlineData("http://blog.example.org/artikel", null, null)]
    [InlineData("https://blog.example.org:444/artikel", null, null)]
    [InlineData("/artikel", null, null)]
    public async Task CheckInboxPage_LinksBack_OnlyToAnAllowedOrigin(string? returnUrl, string? referer, string? expected)
    {
        await using var app = App();
        var extra = returnUrl is null ? [] : new[] { ("returnUrl", returnUrl) };

        var response = await app.CreateClient().SendAsync(FormPost(Blog, referer, extra), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var links = BackLink().Matches(await response.BodyAsync()).Select(m => WebUtility.HtmlDecode(m.Groups["href"].Value)).ToList();
        Assert.Equal(expected is null ? [] : [expected], links);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task FormWithAnError_KeepsTheWayBack_ForTheNextPost()
    {
        await using var app = App();

        var response = await app.CreateClient().SendAsync(FormPost(Blog, null, ("returnUrl", Blog + "/artikel"), ("email", "not an address")), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("""<input type="hidden" name="returnUrl" value="https://blog.example.org/artikel">""", await response.BodyAsync());
    }

    [Theory]
    [InlineData("https://blog.example.org/")]
    [InlineData("https://blog.example.org/artikel")]
    [InlineData("blog.example.org")]
    [InlineData("ftp://blog.example.org")]
    [InlineData("https://user@blog.example.org")]
    [InlineData("https://blog.example.org?x=1")]
    [InlineData("null")]
    [InlineData("*")]
    public async Task AnAllowedOriginThatIsNoOrigin_StopsTheStart_NamingTheKey(string value)
    {
        await using var app = new MailerAppFactory { Settings = { ["Subscribers:AllowedOrigins:0"] = Blog, ["Subscribers:AllowedOrigins:1"] = value } };

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(error.Failures, f => f.Contains("Subscribers:AllowedOrigins:1", StringComparison.Ordinal) && f.Contains(value, StringComparison.Ordinal));
    }

    [GeneratedRegex("""<a href="(?<href>[^"]*)">(Zurück zum Artikel|Back to the article)</a>""")]
    private static partial Regex BackLink();
}
