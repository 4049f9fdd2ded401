using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dapper;
using Mailer.Bounces;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Mailer.Tests.Bounces;

/// <summary>
/// <c>POST /webhooks/bounces/ses</c> with SNS messages signed by a certificate of the test's own (the certificate
/// fetcher is replaced; the URL rules stay): authentic ones act, anything else is 401 and changes nothing.
/// </summary>
public sealed class SesWebhookTests : IDisposable
{
    private const string Topic = "arn:aws:sns:eu-central-1:123456789012:ses-bounces";
    private const string CertUrl = "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem";

    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;

    public SesWebhookTests()
    {
        var request = new CertificateRequest("CN=sns.amazonaws.com test", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }

    private sealed class TestCertificates(X509Certificate2 certificate) : ISnsCertificateSource
    {
        public List<Uri> Asked { get; } = [];

        public Task<X509Certificate2> GetAsync(Uri url, CancellationToken cancellationToken)
        {
            Asked.Add(url);
            return Task.FromResult(certificate);
        }
    }

    private MailerAppFactory App(TestCertificates certificates) => new()
    {
        Settings =
        {
            ["Bounces:ReturnPath"] = "bounces@example.org",
            ["Bounces:Webhook:SesTopicArns:0"] = Topic,
        },
        ConfigureTestServices = services => services.AddSingleton<ISnsCertificateSource>(certificates),
    };

    private static async Task<(long Subscriber, string ReturnPath)> SubscriberWithRowAsync(MailerAppFactory app)
    {
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        var id = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at) VALUES ('meta-ai-objection', 'ses@example.net', 'de', 'facebook', 'confirmed', 1, 1) RETURNING id");
        var row = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at) VALUES (@Id, 'meta-ai-objection', 'announcement', 'sent', 1, 1, 1, 1, 1) ON CONFLICT (subscriber_id, mailing) DO UPDATE SET status = 'sent', sent_at = 1 RETURNING id",
            new { Id = id });
        return (id, app.Services.GetRequiredService<ReturnPath>().ForDelivery(row)!);
    }

    private static string BounceNotification(string source, string bounceType = "Permanent", string status = "5.1.1") => JsonSerializer.Serialize(new
    {
        notificationType = "Bounce",
        bounce = new
        {
            bounceType,
            bounceSubType = "General",
            bouncedRecipients = new[] { new { emailAddress = "ses@example.net", action = "failed", status, diagnosticCode = $"smtp; 550 {status} user unknown" } },
            timestamp = "2024-05-01T10:01:00.000Z",
        },
        mail = new { timestamp = "2024-05-01T10:00:59.000Z", source, messageId = "0102018f3a1b2c3d-aaaa", destination = new[] { "ses@example.net" } },
    });

    /// <summary>An SNS notification signed as Amazon documents it: "Key\nValue\n" for Message, MessageId, Subject, Timestamp, TopicArn, Type.</summary>
    private string Signed(string message, string version = "2", string topic = Topic, string certUrl = CertUrl, string? tamperedMessage = null)
    {
        const string messageId = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324";
        const string timestamp = "2024-05-01T10:01:01.000Z";
        var canonical = $"Message\n{message}\nMessageId\n{messageId}\nTimestamp\n{timestamp}\nTopicArn\n{topic}\nType\nNotification\n";
        var hash = version == "1" ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        var signature = Convert.ToBase64String(_key.SignData(Encoding.UTF8.GetBytes(canonical), hash, RSASignaturePadding.Pkcs1));
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["Type"] = "Notification",
            ["MessageId"] = messageId,
            ["TopicArn"] = topic,
            ["Message"] = tamperedMessage ?? message,
            ["Timestamp"] = timestamp,
            ["SignatureVersion"] = version,
            ["Signature"] = signature,
            ["SigningCertURL"] = certUrl,
            ["UnsubscribeURL"] = "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
        });
    }

    private static Task<HttpResponseMessage> PostAsync(MailerAppFactory app, string body) =>
        app.CreateClient().PostAsync("/webhooks/bounces/ses", new StringContent(body, Encoding.UTF8, "text/plain"), Cancel);

    private static async Task<(long? SuppressedAt, long Events)> StateAsync(MailerAppFactory app, long subscriber)
    {
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        return (await connection.ExecuteScalarAsync<long?>("SELECT suppressed_at FROM subscribers WHERE id = @Id", new { Id = subscriber }),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM bounce_events"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task AuthenticPermanentBounce_StopsMail_OnceForTheSameNotification(string signatureVersion)
    {
        var certificates = new TestCertificates(_certificate);
        await using var app = App(certificates);
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var body = Signed(BounceNotification(returnPath), signatureVersion);

        var first = await PostAsync(app, body);
        var again = await PostAsync(app, body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("\"Suppressed\"", await first.Content.ReadAsStringAsync(Cancel));
        Assert.Contains("\"Duplicate\"", await again.Content.ReadAsStringAsync(Cancel));
        var state = await StateAsync(app, subscriber);
        Assert.NotNull(state.SuppressedAt);
        Assert.Equal(1, state.Events);
        Assert.All(certificates.Asked, url => Assert.Equal(CertUrl, url.ToString()));
    }

    [Fact]
    public async Task AuthenticComplaint_Unsubscribes()
    {
        await using var app = App(new TestCertificates(_certificate));
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var complaint = JsonSerializer.Serialize(new
        {
            notificationType = "Complaint",
            complaint = new { complainedRecipients = new[] { new { emailAddress = "ses@example.net" } }, complaintFeedbackType = "abuse" },
            mail = new { source = returnPath },
        });

        var response = await PostAsync(app, Signed(complaint));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        Assert.Equal("unsubscribed", await connection.ExecuteScalarAsync<string>("SELECT status FROM subscribers WHERE id = @Id", new { Id = subscriber }));
    }

    public static TheoryData<string> Forgeries => ["tampered", "http-cert", "foreign-cert-host", "lookalike-cert-host", "other-topic", "version-3", "unsigned"];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task ForgedOrForeignMessage_Is401Problem_AndChangesNothing(string forgery)
    {
        await using var app = App(new TestCertificates(_certificate));
        var (subscriber, returnPath) = await SubscriberWithRowAsync(app);
        var message = BounceNotification(returnPath);
        var body = forgery switch
        {
            "tampered" => Signed(message, tamperedMessage: BounceNotification(returnPath, status: "5.1.2")),
            "http-cert" => Signed(message, certUrl: CertUrl.Replace("https://", "http://", StringComparison.Ordinal)),
            "foreign-cert-host" => Signed(message, certUrl: "https://certs.example.com/SimpleNotificationService.pem"),
            "lookalike-cert-host" => Signed(message, certUrl: "https://sns.eu-central-1.amazonaws.com.example.com/SimpleNotificationService.pem"),
            "other-topic" => Signed(message, topic: "arn:aws:sns:eu-central-1:999999999999:someone-elses"),
            "version-3" => Signed(message, version: "3"),
            _ => JsonSerializer.Serialize(new { Type = "Notification", MessageId = "x", TopicArn = Topic, Message = message, Timestamp = "2024-05-01T10:01:01.000Z" }),
        };

        var response = await PostAsync(app, body);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(((long?)null, 0L), await StateAsync(app, subscriber));
    }

    [Fact]
    public async Task NotJson_Is400()
    {
        await using var app = App(new TestCertificates(_certificate));

        var response = await PostAsync(app, "not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
