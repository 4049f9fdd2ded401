using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Hangfire;
using Hangfire.InMemory;
using Mailer.Campaigns;
using Mailer.Tests.Signups;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

public class HangfireSetupTests
{
    [Fact]
    public async Task InMemoryStorage_KeepsFinishedJobsFor_InMemoryHistory()
    {
        await using var app = new MailerAppFactory { Settings = { ["Hangfire:InMemoryHistory"] = "00:02:00" } };

        var storage = Assert.IsType<InMemoryStorage>(app.Services.GetRequiredService<JobStorage>());

        Assert.Equal(TimeSpan.FromMinutes(2), storage.Options.MaxExpirationTime);
    }

    [Fact]
    public async Task InMemoryStorage_ByDefault_KeepsFinishedJobsHalfAnHour()
    {
        await using var app = new MailerAppFactory();

        var storage = Assert.IsType<InMemoryStorage>(app.Services.GetRequiredService<JobStorage>());

        Assert.Equal(TimeSpan.FromMinutes(30), storage.Options.MaxExpirationTime);
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("2.00:00:00")]
    public async Task InMemoryHistory_OutOfRange_StopsTheStart_NamingTheKey(string value)
    {
        await using var app = new MailerAppFactory { Settings = { ["Hangfire:InMemoryHistory"] = value } };

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<HangfireOptions>>().Value);

        Assert.Contains(error.Failures, failure => failure.Contains("Hangfire:InMemoryHistory", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AConfirmationMail_DoesNotWaitBehindDispatchRunsThatHang()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var host = new CampaignHost(TestPaths.NewTemporaryDirectory("queues"), smtp, new FakeTimeProvider(TestSteps.Start)).Start();
        var hold = Guid.NewGuid().ToString("N");
        var jobs = host.Services.GetRequiredService<IBackgroundJobClient>();
        try
        {
            // Two dispatch runs that hang (as slow runs piling up do): as many as the dispatch queue ever had workers.
            jobs.Enqueue("dispatch", () => HangingJob.Run(hold));
            jobs.Enqueue("dispatch", () => HangingJob.Run(hold));
            await Eventually.MeetsAsync(() => Task.FromResult(HangingJob.Entered(hold) >= 1), TimeSpan.FromSeconds(30), "a hanging dispatch run");

            var signup = await host.CreateClient().PostSignupAsync("eilig@example.de");
            Assert.Equal(System.Net.HttpStatusCode.Accepted, signup.StatusCode);

            await smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30));
            Assert.Equal("eilig@example.de", Assert.Single(smtp.Messages).To[0]);
        }
        finally
        {
            HangingJob.Release(hold);
        }
    }
}

/// <summary>A job that hangs until the test releases it; one gate per test.</summary>
public static class HangingJob
{
    private static readonly ConcurrentDictionary<string, (SemaphoreSlim Gate, StrongBox<int> Entered)> Gates = new();

    public static void Run(string hold)
    {
        var (gate, entered) = Gates.GetOrAdd(hold, _ => (new SemaphoreSlim(0), new StrongBox<int>()));
        Interlocked.Increment(ref entered.Value);
        gate.Wait(TimeSpan.FromMinutes(2));
    }

    public static int Entered(string hold) => Gates.TryGetValue(hold, out var g) ? Volatile.Read(ref g.Entered.Value) : 0;

    public static void Release(string hold) => Gates.GetOrAdd(hold, _ => (new SemaphoreSlim(0), new StrongBox<int>())).Gate.Release(100);
}
