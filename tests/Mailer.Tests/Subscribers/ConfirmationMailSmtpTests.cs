using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Subscribers.TestSteps;

namespace Mailer.Tests.Subscribers;

/// <summary>The confirmation mail the real way: rendered from templates/, sent over SMTP to an in-process server, its link clicked.</summary>
public partial class ConfirmationMailSmtpTests
{
    [Fact]
    public async Task Signup_SendsTheConfirmationMailOverSmtp_AndItsLinkConfirms()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = SmtpApp(smtp, captureJobs: false);
        var client = app.CreateClient();

        var response = await client.PostSignupAsync("Anna@MÜLLER.de", ["instagram"]);
        await smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
        var mail = Assert.Single(smtp.Messages);
        var link = ConfirmLink().Match(mail.Message.TextBody ?? "");
        var confirmation = await client.GetAsync(MailerAppFactory.PathOf(link.Value), Cancel);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(mail.To);
        Assert.Equal("Anna@müller.de", mail.Message.To.Mailboxes.Single().Address);
        Assert.True(link.Success, mail.Message.TextBody);
        Assert.Contains(link.Value, mail.Message.HtmlBody);
        Assert.Equal(HttpStatusCode.OK, confirmation.StatusCode);
        var subscriber = (await app.Store.FindByEmailAsync("Anna@müller.de", Cancel))!;
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
    }

    [Theory]
    [InlineData(550, "5.1.1 User unknown", false)]
    [InlineData(451, "4.3.0 Try again later", true)]
    public async Task ConfirmationMail_RefusedByTheServer_IsGivenUpOrStaysDue(int code, string text, bool staysDue)
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        smtp.Answer = _ => SmtpAnswer.Reply(code, text);
        await using var app = SmtpApp(smtp, captureJobs: true);
        await app.CreateClient().PostSignupAsync("anna@example.de");

        await app.RunConfirmationJobsAsync();

        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal(staysDue, subscriber.AwaitsConfirmationMail);
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
    }

    private static MailerAppFactory SmtpApp(TestSmtpServer smtp, bool captureJobs) => new()
    {
        RecordConfirmationMails = false,
        CaptureJobs = captureJobs,
        Settings =
        {
            ["Smtp:Host"] = smtp.Host,
            ["Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
            ["Smtp:Timeout"] = "00:00:10",
        },
    };

    [GeneratedRegex(@"http://localhost:5000/confirm/[A-Za-z0-9_.-]+")]
    private static partial Regex ConfirmLink();
}
