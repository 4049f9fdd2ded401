using Hangfire;
using Mailer.Campaigns;
using Mailer.Delivery;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

/// <summary>
/// One confirmation mail per request, on both databases: jobs claim before they send, and the dispatcher's sweep queues
/// a lost request once, never one that still waits in the queue, and never after its link would have expired.
/// </summary>
public class ConfirmationSweepTests
{
    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TwoConfirmMailJobsForOneSubscriber_RunAtOnce_SendExactlyOneMail(StorageProvider provider)
    {
        await using var postgres = await PostgresFor(provider);
        await using var app = App(postgres, Clock());
        await app.CreateClient().PostSignupAsync("anna@example.de");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out var id));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = 0;
        app.ConfirmationMails.BeforeSend = () =>
        {
            if (Interlocked.Increment(ref sends) > 1)
            {
                return Task.CompletedTask;
            }

            entered.SetResult();
            return release.Task;
        };

        var first = RunJobAsync(app, id);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);   // the first job is on the wire with its mail
        await RunJobAsync(app, id);                                        // the second runs to its end meanwhile
        release.SetResult();
        await first;

        Assert.Single(app.ConfirmationMails.All);
        Assert.False((await app.Store.FindAsync(id, Cancel))!.AwaitsConfirmationMail);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Sweep_ALostConfirmation_IsQueuedOnceAndMailedOnce(StorageProvider provider)
    {
        var clock = Clock();
        await using var postgres = await PostgresFor(provider);
        await using var app = App(postgres, clock);
        await app.CreateClient().PostSignupAsync("anna@example.de");
        Assert.True(app.CapturedJobs.TryTakeConfirmation(out _));         // the job is lost (a restart of in-memory Hangfire)
        clock.Advance(TimeSpan.FromMinutes(6));

        await DispatchAsync(app);
        clock.Advance(TimeSpan.FromMinutes(1));
        await DispatchAsync(app);                                          // the next poll: the request has its job
        await app.RunConfirmationJobsAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        await DispatchAsync(app);

        Assert.Equal(2, app.CapturedJobs.ConfirmationCount);              // the signup's and the sweep's, no more
        Assert.Equal("anna@example.de", Assert.Single(app.ConfirmationMails.All).Recipient.Email);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Sweep_DeferredUntilTheLinkWouldHaveExpired_IsNotRetriedAndNotMailed(StorageProvider provider)
    {
        var clock = Clock();
        await using var postgres = await PostgresFor(provider);
        await using var app = App(postgres, clock, ("Subscribers:ConfirmWithin", "1.00:00:00"));
        await app.CreateClient().PostSignupAsync("anna@example.de");
        app.ConfirmationMails.NextOutcome = SendOutcome.Transient;
        await app.RunConfirmationJobsAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        await DispatchAsync(app);                                          // deferred: tried again while the link holds
        Assert.Equal(2, app.CapturedJobs.ConfirmationCount);
        await app.RunConfirmationJobsAsync();

        clock.Advance(TimeSpan.FromDays(1));
        await DispatchAsync(app);
        app.ConfirmationMails.NextOutcome = SendOutcome.Accepted;
        var id = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!.Id;
        await RunJobAsync(app, id);                                        // a job still around from before sends nothing either

        Assert.Equal(2, app.CapturedJobs.ConfirmationCount);
        Assert.Empty(app.ConfirmationMails.All);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Sweep_DuringARush_QueuesNoRequestThatStillWaitsInTheQueue(StorageProvider provider)
    {
        const int signups = 5;
        var clock = Clock();
        await using var postgres = await PostgresFor(provider);
        await using var app = App(postgres, clock, ("Hangfire:WorkerCount", "1"));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.ConfirmationMails.BeforeSend = () =>
        {
            entered.TrySetResult();
            return release.Task;
        };
        var client = app.CreateClient();
        for (var i = 0; i < signups; i++)
        {
            await client.PostSignupAsync($"person{i}@example.de");
        }

        // The one worker hangs in the first mail; the other four jobs wait in the queue, longer than the sweep's patience.
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        clock.Advance(TimeSpan.FromMinutes(10));
        await DispatchAsync(app);
        clock.Advance(TimeSpan.FromMinutes(1));
        await DispatchAsync(app);
        release.SetResult();
        for (var i = 0; i < signups; i++)
        {
            await app.ConfirmationMails.NextAsync(TimeSpan.FromSeconds(30), app.DescribeJobs);
        }

        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        await Eventually.MeetsAsync(() => Task.FromResult(monitoring.EnqueuedCount("default") == 0 && monitoring.ProcessingCount() == 0),
            TimeSpan.FromSeconds(30), "the confirmation jobs done");
        var jobs = monitoring.SucceededJobs(0, 100).Count(j => j.Value.Job?.Type == typeof(ConfirmMailJob));
        Assert.Equal(signups, jobs);
        Assert.Equal(signups, app.ConfirmationMails.All.Count);
        Assert.Equal(signups, app.ConfirmationMails.All.Select(m => m.Recipient.Email).Distinct().Count());
    }

    private static async Task<PostgresTestDatabase?> PostgresFor(StorageProvider provider) =>
        provider == StorageProvider.PostgreSql ? await PostgresTestDatabase.CreateAsync() : null;

    private static MailerAppFactory App(PostgresTestDatabase? postgres, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock,
        params (string Key, string Value)[] settings)
    {
        var app = new MailerAppFactory { Time = clock, CaptureJobs = !settings.Any(s => s.Key == "Hangfire:WorkerCount") };
        foreach (var (key, value) in postgres?.Settings(hangfire: false) ?? [])
        {
            app.Settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            app.Settings[key] = value;
        }

        return app;
    }

    /// <summary>One run of the dispatcher, the sweep's home, as Hangfire runs it.</summary>
    private static async Task DispatchAsync(MailerAppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DispatchJob>().RunAsync(Cancel);
    }

    private static async Task RunJobAsync(MailerAppFactory app, long subscriberId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ConfirmMailJob>().SendAsync(subscriberId, Cancel);
    }
}
