using System.Collections.Concurrent;
using Dapper;
using Mailer.Tests.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// Two instances of the service on one PostgreSQL database, store and Hangfire jobs shared, sending to one SMTP server,
/// as a scale-out runs them. Each instance names itself in EHLO (<c>Smtp:HeloName</c>), so the server can tell whose
/// messages are whose. The count of subscribers is <c>MAILER_TEST_SCALEOUT_SUBSCRIBERS</c>, default 5,000 so the suite
/// stays quick; the issue's full run is <c>MAILER_TEST_SCALEOUT_SUBSCRIBERS=20000</c>.
/// </summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset FinalDue = new(2024, 5, 26, 6, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ConfirmedLongAgo = new(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _data = TestPaths.NewTemporaryDirectory("scale-out");
    private PostgresTestDatabase _postgres = null!;
    private TestSmtpServer _smtp = null!;

    private static int Subscribers =>
        int.TryParse(Environment.GetEnvironmentVariable("MAILER_TEST_SCALEOUT_SUBSCRIBERS"), out var count) && count > 0 ? count : 5000;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        _smtp = await TestSmtpServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _smtp.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabase_SendEachSubscriberEveryMailingOnce_AndBothSendAShare()
    {
        var count = Subscribers;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 8, 0, 0, TimeSpan.Zero));
        await using var a = Instance("instance-a", time).Start();
        await using var b = Instance("instance-b", time).Start();
        await TestStore.AddConfirmedAsync(a.Database, count, ConfirmedLongAgo);

        foreach (var (mailing, at) in new[] { ("announcement", new DateTimeOffset(2024, 5, 1, 10, 0, 1, TimeSpan.Zero)), ("reminder-week", WeekDue.AddSeconds(1)), ("reminder-final", FinalDue.AddSeconds(1)) })
        {
            time.SetUtcNow(at);
            await b.WaitUntilSettledAsync(mailing, count, TimeSpan.FromMinutes(5));
        }

        var messages = _smtp.Messages;
        Assert.Equal(3 * count, messages.Count);
        Assert.Equal(3 * count, messages.Select(m => (m.To.Single(), m.Message.Headers["X-Mailing"])).Distinct().Count());
        Assert.Equal(3 * count, await a.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        var shares = messages.GroupBy(m => m.HeloName).ToDictionary(g => g.Key ?? "", g => g.Count());
        Assert.Equal(["instance-a", "instance-b"], shares.Keys.Order());
        Assert.All(shares.Values, sent => Assert.True(sent >= count / 10, $"shares: {string.Join(", ", shares)}"));
    }

    [Fact]
    public async Task TwoInstancesWithTheirOwnJobStorage_DispatchAndSendBoth_AndTheLedgerGivesEachRowToOne()
    {
        const int count = 1500;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        // Small batches, so the first instance's jobs cannot claim everything before the other's dispatcher runs.
        (string, string?)[] settings = [("Hangfire:Storage", "InMemory"), ("Campaign:BatchSize", "50")];
        await using var a = Instance("instance-a", time, settings).Start();
        await using var b = Instance("instance-b", time, settings).Start();

        await TestStore.AddConfirmedAsync(a.Database, count, ConfirmedLongAgo);
        await a.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(2));

        var messages = _smtp.Messages;
        Assert.Equal(count, messages.Count);
        Assert.Equal(count, messages.Select(m => m.To.Single()).Distinct().Count());
        Assert.Equal(["instance-a", "instance-b"], messages.Select(m => m.HeloName).Distinct().Order());
    }

    [Fact]
    public async Task AnInstanceThatDiesInTheMiddle_LeavesItsLeasedRowsToTheOther_AndNoOneIsMissedOrMailedTwice()
    {
        var count = Math.Min(Subscribers, 2000);
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        var dead = false;
        using var never = new ManualResetEventSlim();
        var inFlight = new ConcurrentBag<string>();
        var deadJobs = new ConcurrentDictionary<string, bool>();
        _smtp.Answer = mail =>
        {
            if (mail.HeloName == "instance-a" && Volatile.Read(ref dead))
            {
                // A killed process: its message was on the wire and never gets an answer; its leases stop being renewed.
                // The row is this job's now (its lease runs until the test moves the clock), which names the dead job.
                inFlight.Add(mail.To.Single());
                deadJobs.TryAdd(LeaseOwnerOf(mail.To.Single()), true);
                never.Wait();
                return SmtpAnswer.DropConnection;
            }

            Thread.Sleep(1);   // a server that takes its time, so the death lands in the middle
            return SmtpAnswer.Accept;
        };

        // A waits for the answer that never comes rather than giving up after the usual timeout, as a dead process does.
        await using var a = Instance("instance-a", time, ("Smtp:Timeout", "00:10:00")).Start();
        await using var b = Instance("instance-b", time).Start();
        await TestStore.AddConfirmedAsync(a.Database, count, ConfirmedLongAgo);
        try
        {
            await Eventually.MeetsAsync(() => Task.FromResult(SentBy("instance-a") >= 200), TimeSpan.FromMinutes(4), "200 messages from instance-a");
            Volatile.Write(ref dead, true);

            // B sends everything it can claim; what A had leased waits for the lease to run out, then B takes it.
            for (var round = 0; !await IsSettledAsync(b, count); round++)
            {
                Assert.True(round < 10, "the dead instance's rows were not taken back");
                await Eventually.MeetsAsync(async () => await IsSettledAsync(b, count) || await OnlyTheDeadHoldRowsAsync(b, deadJobs.Keys, time.GetUtcNow()),
                    TimeSpan.FromMinutes(2), "the living instance has sent all it could claim");
                if (!await IsSettledAsync(b, count))
                {
                    Assert.NotEmpty(inFlight);
                    time.Advance(TimeSpan.FromMinutes(3));   // past Campaign:LeaseDuration (2 minutes)
                }
            }

            var received = _smtp.Messages.GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(count, received.Count);
            Assert.All(received.Values, n => Assert.Equal(1, n));
            Assert.All(inFlight, to => Assert.Equal("instance-b", _smtp.Messages.Single(m => m.To.Single() == to).HeloName));
            Assert.Equal(count, await b.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        }
        finally
        {
            never.Set();   // lets the test end; A's connections break, and whatever A still held is no longer A's
        }
    }

    [Fact]
    public async Task AnInstanceThatStallsPastItsLease_AndWakesUp_DoesNotSendAgainWhatAnotherTookOver()
    {
        const int count = 40;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        using var wake = new ManualResetEventSlim();
        string? stalled = null;
        _smtp.Answer = mail =>
        {
            // A's first message hangs, as if its process froze (a long GC pause, a suspended VM) with the message on the wire.
            if (mail.HeloName == "instance-a" && Interlocked.CompareExchange(ref stalled, mail.To.Single(), null) is null)
            {
                wake.Wait();
            }

            return SmtpAnswer.Accept;
        };

        (string, string?)[] oneConnectionSmallBatches = [("Smtp:Connections", "1"), ("Campaign:BatchSize", "10")];
        await using var a = Instance("instance-a", time, [.. oneConnectionSmallBatches, ("Smtp:Timeout", "00:10:00")]).Start();
        await TestStore.AddConfirmedAsync(a.Database, count, ConfirmedLongAgo);
        await Eventually.MeetsAsync(() => Task.FromResult(Volatile.Read(ref stalled) is not null), TimeSpan.FromSeconds(60), "instance-a stalls");
        await using var b = Instance("instance-b", time, oneConnectionSmallBatches).Start();
        try
        {
            await Eventually.MeetsAsync(async () => await b.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'") == count - 10,
                TimeSpan.FromMinutes(2), "instance-b sent all but the batch instance-a holds");
            time.Advance(TimeSpan.FromMinutes(3));   // past the lease: instance-b takes the batch over and sends it
            await b.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(2));
        }
        finally
        {
            wake.Set();
        }

        // A wakes up: its message in flight is accepted (the one duplicate a lease allows); the rest of its batch is no longer its.
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count > count), TimeSpan.FromSeconds(30), "instance-a's message in flight");
        var storage = a.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        await Eventually.MeetsAsync(() => Task.FromResult(storage.ProcessingCount() == 0), TimeSpan.FromSeconds(60), "instance-a's send job ends");
        var received = _smtp.Messages.GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(count, received.Count);
        Assert.Equal([stalled!], received.Where(r => r.Value > 1).Select(r => r.Key));
        Assert.Equal(2, received[stalled!]);
    }

    private CampaignHost Instance(string name, FakeTimeProvider time, params (string Key, string? Value)[] settings)
    {
        var all = _postgres.Settings(hangfire: true).ToDictionary(s => s.Key, s => s.Value);
        all["Smtp:HeloName"] = name;
        all["Campaign:LaunchAt"] = "2024-05-01T12:00:00";
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return new CampaignHost(Path.Combine(_data, name), _smtp, time, all);
    }

    private int SentBy(string instance) => _smtp.Messages.Count(m => m.HeloName == instance);

    private static async Task<bool> IsSettledAsync(CampaignHost host, int count) =>
        await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'") == count;

    /// <summary>Nothing is left to claim: nothing queued, every leased row under a running lease of a dead job.</summary>
    private static async Task<bool> OnlyTheDeadHoldRowsAsync(CampaignHost host, ICollection<string> deadJobs, DateTimeOffset now) =>
        await host.CountAsync(
            """
            SELECT COUNT(*) FROM deliveries
            WHERE status = 'queued' OR (status = 'sending' AND (lease_until < @Now OR NOT lease_owner = ANY(@DeadJobs)))
            """,
            new { Now = now.ToUnixTimeMilliseconds(), DeadJobs = deadJobs.ToArray() }) == 0;

    private string LeaseOwnerOf(string email)
    {
        using var connection = new NpgsqlConnection(_postgres.ConnectionString);
        return connection.ExecuteScalar<string>(
            "SELECT d.lease_owner FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = @Email AND d.status = 'sending'",
            new { Email = email }) ?? throw new InvalidOperationException($"{email} is being sent without a lease.");
    }
}
