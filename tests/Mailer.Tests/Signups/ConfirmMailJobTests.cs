using Mailer.Delivery;
using Mailer.Signups;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

public class ConfirmMailJobTests
{
    [Fact]
    public async Task ConfirmMailJob_RunTwice_SendsOneMailAndRecordsIt()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClient().PostSignupAsync("anna@example.de", ["instagram"], "en");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out var id));
        clock.Advance(TimeSpan.FromSeconds(2));

        await RunJobAsync(app, id);
        await RunJobAsync(app, id);

        var mail = Assert.Single(app.ConfirmationMails.All);
        Assert.Equivalent(new Mailer.Rendering.Recipient(id, "anna@example.de", "en", ["instagram"]) { Campaign = "meta-ai-objection" }, mail.Recipient, strict: true);
        Assert.StartsWith("http://localhost:5000/confirm/", mail.ConfirmUrl);
        var subscriber = (await app.Store.FindAsync(id, Cancel))!;
        Assert.Equal(clock.GetUtcNow(), subscriber.ConfirmSentAt);
        Assert.False(subscriber.AwaitsConfirmationMail);
    }

    [Fact]
    public async Task ConfirmMailJob_ForAConfirmedOrUnknownSubscriber_SendsNothing()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        await app.CreateClient().PostSignupAsync("anna@example.de");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out var id));
        await app.Store.ConfirmAsync(id, Start, null, Cancel);

        await RunJobAsync(app, id);
        await RunJobAsync(app, 999_999);

        Assert.Empty(app.ConfirmationMails.All);
    }

    [Fact]
    public async Task ConfirmMailJob_TransientFailure_LeavesTheRequestDueForTheSweep()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClient().PostSignupAsync("anna@example.de");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out var id));
        app.ConfirmationMails.NextOutcome = SendOutcome.Transient;

        await RunJobAsync(app, id);
        Assert.True((await app.Store.FindAsync(id, Cancel))!.AwaitsConfirmationMail);

        app.ConfirmationMails.NextOutcome = SendOutcome.Accepted;
        await RunJobAsync(app, id);

        Assert.Single(app.ConfirmationMails.All);
        Assert.False((await app.Store.FindAsync(id, Cancel))!.AwaitsConfirmationMail);
    }

    [Fact]
    public async Task ConfirmMailJob_PermanentFailure_IsNotTriedAgain()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        await app.CreateClient().PostSignupAsync("nobody@example.de");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out var id));
        app.ConfirmationMails.NextOutcome = SendOutcome.Permanent;

        await RunJobAsync(app, id);
        clock.Advance(TimeSpan.FromMinutes(10));
        app.ConfirmationMails.NextOutcome = SendOutcome.Accepted;
        await RunJobAsync(app, id);

        Assert.Empty(app.ConfirmationMails.All);
        Assert.False((await app.Store.FindAsync(id, Cancel))!.AwaitsConfirmationMail);
    }

    [Fact]
    public async Task LinkBuilder_TakesConfirmWithinFromTheOptions()
    {
        await using var app = new MailerAppFactory { Settings = { ["Subscribers:ConfirmWithin"] = "3.00:00:00" } };

        Assert.Equal(TimeSpan.FromDays(3), app.Links.ConfirmWithin);
    }

    private static async Task RunJobAsync(MailerAppFactory app, long subscriberId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ConfirmMailJob>().SendAsync(subscriberId, Cancel);
    }
}
