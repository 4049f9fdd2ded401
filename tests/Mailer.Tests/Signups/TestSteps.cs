using System.Net.Http.Json;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Signups;

/// <summary>What the Subscribers tests do over and over: a clock to start from, signups by JSON or form, subscribers and their links.</summary>
internal static class TestSteps
{
    /// <summary>Two weeks and a bit before the deadline (26 May 2024 23:59:59 Berlin = 21:59:59 UTC).</summary>
    public static readonly DateTimeOffset Start = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Start);

    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostSignupAsync(this HttpClient client, string email, string[]? platforms = null, string? locale = "de") =>
        client.PostAsJsonAsync("/subscribe", new { email, platforms = platforms ?? ["facebook", "instagram"], locale }, Cancel);

    /// <summary>Opens the signup page and posts its form, as a browser does.</summary>
    public static async Task<HttpResponseMessage> SubmitSignupFormAsync(this HttpClient client, string email, string[] platforms,
        string locale = "de", string honeypot = "")
    {
        await client.GetStringAsync("/?lang=" + locale, Cancel);
        var fields = new List<KeyValuePair<string, string>>
        {
            new("email", email),
            new("locale", locale),
            new("website", honeypot),
        };
        fields.AddRange(platforms.Select(p => new KeyValuePair<string, string>("platforms", p)));
        return await client.PostAsync("/subscribe", new FormUrlEncodedContent(fields), Cancel);
    }

    /// <summary>
    /// Opens a confirmation link and presses the page's one button, as a person does (a GET alone confirms nothing);
    /// the answer to the press.
    /// </summary>
    public static async Task<HttpResponseMessage> ConfirmWithButtonAsync(this HttpClient client, string confirmUrl)
    {
        var path = MailerAppFactory.PathOf(confirmUrl);
        var page = await client.GetStringAsync(path, Cancel);
        return await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);
    }

    public static Task<string> BodyAsync(this HttpResponseMessage response) => response.Content.ReadAsStringAsync(Cancel);

    public static FormUrlEncodedContent OneClickBody() => new([new("List-Unsubscribe", "One-Click")]);

    /// <summary>The token in a link: the path segment after the verb.</summary>
    public static string Token(string url) => new Uri(url).AbsolutePath.Split('/')[2];

    public static async Task<long> PendingSubscriberAsync(MailerAppFactory app, string email)
    {
        var result = await app.Store.SignUpAsync(new Signup(email, "de", ["facebook", "instagram"], ConsentSource.Api, "test", null, null),
            Start, TimeSpan.FromMinutes(10), Cancel);
        return result.SubscriberId;
    }

    public static async Task<long> ConfirmedSubscriberAsync(MailerAppFactory app, string email)
    {
        var id = await PendingSubscriberAsync(app, email);
        Assert.Equal(ConfirmOutcome.Confirmed, await app.Store.ConfirmAsync(id, Start, null, Cancel));
        return id;
    }
}
