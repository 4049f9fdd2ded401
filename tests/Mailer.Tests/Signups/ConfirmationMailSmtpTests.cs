using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Mailer.Signups;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

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
        var confirmation = await client.ConfirmWithButtonAsync(link.Value);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(mail.To);
        Assert.Equal("anna@müller.de", mail.Message.To.Mailboxes.Single().Address);
        Assert.True(link.Success, mail.Message.TextBody);
        Assert.Contains(link.Value, mail.Message.HtmlBody);
        Assert.Equal(HttpStatusCode.OK, confirmation.StatusCode);
        var subscriber = (await app.Store.FindByEmailAsync("anna@müller.de", Cancel))!;
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
        var reports = await app.Services.GetRequiredService<Mailer.Bounces.BounceStore>().EventsAsync(subscriber.Id, Cancel);
        Assert.Equal(staysDue ? [] : ["hard 5.1.1 smtp"], reports.Select(r => $"{r.Kind} {r.Status} {r.Source}"));   // 550 5.1.1 counts as a hard bounce
    }

    [Fact]
    public async Task ConfirmMailJob_OfSeveralSignups_SendsEachOverOneConnection_AndRecordsEach()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var app = SmtpApp(smtp, captureJobs: true);
        var client = app.CreateClient();
        string[] addresses = ["anna@example.de", "bob@example.de", "carla@example.de", "dirk@example.de"];
        foreach (var address in addresses)
        {
            await client.PostSignupAsync(address);
        }

        var ids = new List<long>();
        while (app.CapturedJobs.TryTakeConfirmation(out var id))
        {
            ids.Add(id);
        }

        await RunJobAsync(app, [.. ids]);
        await RunJobAsync(app, [.. ids]);   // again, as after a retry: nothing more goes out

        Assert.Equal(addresses, smtp.Messages.Select(m => m.To.Single()).Order());
        Assert.Single(smtp.Messages.Select(m => m.SessionId).Distinct());
        foreach (var address in addresses)
        {
            Assert.False((await app.Store.FindByEmailAsync(address, Cancel))!.AwaitsConfirmationMail);
        }
    }

    [Fact]
    public async Task ConfirmMailJob_ServerDefersEveryMail_StopsAfterThree_AndLeavesAllDue()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        var tried = 0;
        smtp.Answer = _ =>
        {
            Interlocked.Increment(ref tried);
            return SmtpAnswer.Reply(451, "4.3.0 Try again later");
        };
        await using var app = SmtpApp(smtp, captureJobs: true);
        var client = app.CreateClient();
        for (var i = 0; i < 6; i++)
        {
            await client.PostSignupAsync($"person{i}@example.de");
        }

        var ids = new List<long>();
        while (app.CapturedJobs.TryTakeConfirmation(out var id))
        {
            ids.Add(id);
        }

        await RunJobAsync(app, [.. ids]);

        // Six are due; the job gives up after the third deferral in a row (the server is down), the sweep sends the rest.
        Assert.Equal(6, ids.Count);
        Assert.Equal(3, tried);
        foreach (var id in ids)
        {
            Assert.True((await app.Store.FindAsync(id, Cancel))!.AwaitsConfirmationMail);
        }
    }

    private static async Task RunJobAsync(MailerAppFactory app, long[] subscriberIds)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ConfirmMailJob>().SendAsync(subscriberIds, Cancel);
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
