using System.Globalization;
using System.Net;
using System.Text;
using Mailer.Tests.Support;
using MimeKit;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Reliability;

/// <summary>
/// Addresses that are valid and still hostile (an encoded word that decodes to a Bcc header, template syntax, HTML
/// specials) signed up over HTTP and mailed over real SMTP: each reaches exactly its own mailbox, adds no header, and
/// shows in the mail as text, not as code or markup.
/// </summary>
public sealed class MailHeaderSafetyTests : IAsyncLifetime
{
    private TestSmtpServer _smtp = null!;

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    public static TheoryData<string, string> Addresses() => new()
    {
        // typed, stored
        { "=?utf-8?b?DQpCY2M6IHZpY3RpbUBldmlsLmV4YW1wbGU=?=@example.de", "=?utf-8?b?dqpcy2m6ihzpy3rpbubldmlslmv4yw1wbgu=?=@example.de" },
        { "=?utf-8?q?=0D=0ABcc=3A_victim=40evil.example?=@example.de", "=?utf-8?q?=0d=0abcc=3a_victim=40evil.example?=@example.de" },
        { "{{7*7}}@example.de", "{{7*7}}@example.de" },
        { "{{include'layout'}}@example.de", "{{include'layout'}}@example.de" },
        { "o'brien&co@example.de", "o'brien&co@example.de" },
        { "a+b/c=d?e^f_g`h{i|j}k~l!m#n$o%p*q@example.de", "a+b/c=d?e^f_g`h{i|j}k~l!m#n$o%p*q@example.de" },
        { "Anna@EXAMPLE.DE", "anna@example.de" },
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public async Task ValidButHostileAddress_GetsOneConfirmationMail_ToItselfOnly_WithNoExtraHeader_AndShownAsText(string typed, string stored)
    {
        await using var app = new MailerAppFactory
        {
            Time = Clock(),
            RecordConfirmationMails = false,
            Settings =
            {
                ["Smtp:Host"] = _smtp.Host,
                ["Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
                ["Smtp:Security"] = "None",
            },
        };

        var response = await app.CreateClient().PostSignupAsync(typed, locale: "en");
        await app.RunConfirmationJobsAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = Assert.Single(_smtp.Messages);
        Assert.Equal([stored], mail.To);
        var reparsed = MimeMessage.Load(new MemoryStream(mail.Raw), Cancel);
        Assert.Equal(stored, Assert.Single(reparsed.To.Mailboxes).Address);
        Assert.Empty(reparsed.Cc);
        Assert.Empty(reparsed.Bcc);
        var headerNames = reparsed.Headers.Select(h => h.Field).Order(StringComparer.OrdinalIgnoreCase).ToList();
        Assert.Equal(headerNames.Distinct(StringComparer.OrdinalIgnoreCase).Count(), headerNames.Count);
        Assert.DoesNotMatch("(?im)^(bcc|cc):", Encoding.ASCII.GetString(mail.Raw));
        Assert.DoesNotContain("\n", reparsed.Subject, StringComparison.Ordinal);

        Assert.Contains(stored, reparsed.TextBody, StringComparison.Ordinal);
        Assert.Contains(stored, WebUtility.HtmlDecode(reparsed.HtmlBody), StringComparison.Ordinal);
        if (stored.Contains('&', StringComparison.Ordinal))
        {
            Assert.DoesNotContain(stored, reparsed.HtmlBody, StringComparison.Ordinal);    // escaped, not raw
        }

        Assert.DoesNotContain("49@", reparsed.TextBody, StringComparison.Ordinal);
    }
}
