using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Mailer.Bounces;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Mailer.Tests.Bounces;

/// <summary><c>POST /webhooks/bounces/generic</c> over real HTTP: signed reports act, unsigned or invalid ones change nothing.</summary>
public sealed class BounceWebhookTests
{
    private const string Secret = "webhook-test-secret-0123456789abcdefghij";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static MailerAppFactory App() => new()
    {
        Settings =
        {
            ["Bounces:ReturnPath"] = "bounces@example.org",
            ["Bounces:Webhook:Secret"] = Secret,
        },
    };

    private static async Task<(long Subscriber, string ReturnPath)> SubscriberWithRowAsync(MailerAppFactory app)
    {
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        var id = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at) VALUES ('meta-ai-objection', 'hook@example.net', 'de', 'facebook', 'confirmed', 1, 1) RETURNING id");
        var row = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at) VALUES (@Id, 'meta-ai-objection', 'announcement', 'sent', 1, 1, 1, 1, 1) ON CONFLICT (subscriber_id, mailing) DO UPDATE SET status = 'sent', sent_at = 1 RETURNING id",
            new { Id = id });
        return (id, app.Services.GetRequiredService<ReturnPath>().ForDelivery(row)!);
    }

    private static async Task<HttpResponseMessage> PostAsync(MailerAppFactory app, string body, string? signature, string provider = "generic")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/bounces/{provider}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.Add(BounceWebhookApi.SignatureHeader, signature);
        }

        return await app.CreateClient().SendAsync(request, Cancel);
    }

    private static string Sign(string body, string secret = Secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    private static async Task<(string Status, long? SuppressedAt, long Events)> StateAsync(MailerAppFactory app, long subscriber)
    {
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        var (status, suppressed) = await connection.QuerySingleAsync<(string, long?)>("SELECT status, suppressed_at FROM subscribers WHERE id = @Id", new { Id = subscriber });
        return (status, suppressed, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM bounce_events"));
    }

    [Fact]
    public async Task SignedHardBounce_StopsMail_AndTheSameReportAgainCountsOnce()
    {
        await using var app = App();
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var body = $$"""{"id":"r-1","type":"bounce","returnPath":"{{returnPath}}","status":"5.1.1","diagnostic":"smtp; 550 5.1.1 User unknown"}""";

        var first = await PostAsync(app, body, Sign(body));
        var again = await PostAsync(app, body, Sign(body));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("\"Suppressed\"", await first.Content.ReadAsStringAsync(Cancel));
        Assert.Contains("\"Duplicate\"", await again.Content.ReadAsStringAsync(Cancel));
        var state = await StateAsync(app, subscriber);
        Assert.NotNull(state.SuppressedAt);
        Assert.Equal(1, state.Events);
    }

    [Fact]
    public async Task SignedComplaint_Unsubscribes()
    {
        await using var app = App();
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var body = $$"""{"id":"c-1","type":"complaint","returnPath":"{{returnPath.ToUpperInvariant()}}"}""";

        var response = await PostAsync(app, body, Sign(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("unsubscribed", (await StateAsync(app, subscriber)).Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("wrong-secret")]
    [InlineData("sha256=nothex")]
    public async Task UnsignedOrWronglySigned_Is401Problem_AndChangesNothing(string? signature)
    {
        await using var app = App();
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var body = $$"""{"id":"r-1","type":"bounce","returnPath":"{{returnPath}}","status":"5.1.1"}""";

        var response = await PostAsync(app, body, signature == "wrong-secret" ? Sign(body, "another-secret-0123456789abcdefghijklmn") : signature);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("confirmed", (long?)null, 0L), await StateAsync(app, subscriber));
    }

    [Theory]
    [InlineData("""{"id":"r-1","type":"bounce","returnPath":"bounces+d1-aaaaaaaaaa@example.org","status":"5.1.1"}""")]
    [InlineData("""{"type":"bounce","returnPath":"RETURN","status":"5.1.1"}""")]
    [InlineData("""{"id":"r-1","type":"unsubscribe","returnPath":"RETURN"}""")]
    [InlineData("""{"id":"r-1",""")]
    [InlineData("[]")]
    public async Task SignedButInvalid_Is400Problem_AndChangesNothing(string template)
    {
        await using var app = App();
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var body = template.Replace("RETURN", returnPath, StringComparison.Ordinal);

        var response = await PostAsync(app, body, Sign(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("confirmed", (long?)null, 0L), await StateAsync(app, subscriber));
    }

    [Fact]
    public async Task UnknownProvider_Is404()
    {
        await using var app = App();

        var response = await PostAsync(app, "{}", Sign("{}"), provider: "mailgun");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
