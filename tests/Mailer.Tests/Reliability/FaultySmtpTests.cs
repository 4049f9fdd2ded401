using System.Collections.Concurrent;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Reliability;

/// <summary>
/// The announcement fanned out by the real service to a real SMTP server that misbehaves: refusals for now, dropped
/// connections, stalls, a refusal for good, a server that is away for two minutes. The promise: every subscriber is
/// sent the mailing once, or recorded failed with the server's reply once the retry budget is spent.
/// </summary>
public sealed class FaultySmtpTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Confirmed = new(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _data = TestPaths.NewTemporaryDirectory("faulty-smtp");
    private readonly List<TestSmtpServer> _servers = [];
    private readonly List<ReceivedMail> _receivedByStoppedServers = [];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _servers.Add(await TestSmtpServer.StartAsync());

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private TestSmtpServer Smtp => _servers[^1];

    private CampaignHost Host(FakeTimeProvider time, params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Campaign:LaunchAt"] = "2024-05-01T12:00:00", ["Campaign:BatchSize"] = "25" };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return new CampaignHost(_data, Smtp, time, all);
    }

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));

    /// <summary>How many messages each address received, over every server this test ran.</summary>
    private Dictionary<string, int> Received() =>
        _servers.SelectMany(s => s.Messages).Concat(_receivedByStoppedServers)
            .GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());

    private async Task StopServerAsync()
    {
        var server = Smtp;
        _servers.Remove(server);
        await server.DisposeAsync();
        _receivedByStoppedServers.AddRange(server.Messages);
    }

    [Fact]
    public async Task TenPercentRefusedFor421Or451_EveryoneIsSentOnce_AndTheHopelessOnesFailWithTheReply()
    {
        const int count = 400;
        var random = new Random(20240526);
        var attempts = new ConcurrentDictionary<string, int>();
        Smtp.Answer = mail =>
        {
            var to = mail.To.Single();
            var attempt = attempts.AddOrUpdate(to, 1, (_, n) => n + 1);
            if (to == "tenpct7@example.net")
            {
                return SmtpAnswer.Reply(451, "4.7.1 Greylisted, try again later");          // every time: spends the budget
            }

            if (to == "tenpct13@example.net")
            {
                return SmtpAnswer.Reply(552, "5.3.4 Message size exceeds fixed limit");    // the one large message
            }

            bool refuse;
            lock (random)
            {
                refuse = random.NextDouble() < 0.10;
            }

            return refuse && attempt <= 3
                ? attempt % 2 == 1 ? SmtpAnswer.Reply(421, "4.3.2 Service shutting down") : SmtpAnswer.Reply(451, "4.3.0 Try again later")
                : SmtpAnswer.Accept;
        };

        await using var host = Host(Clock()).Start();
        await host.AddConfirmedAsync(count, Confirmed, prefix: "tenpct");
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));

        var received = Received();
        Assert.Equal(count - 2, received.Count);
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} received {r.Value} messages"));
        Assert.Equal(count - 2, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND attempts = 6 AND last_reply LIKE '451 %Greylisted%'"));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND attempts = 1 AND last_reply LIKE '552 %size exceeds%'"));
        var retried = await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND attempts > 1");
        Report($"{count} subscribers, {attempts.Values.Sum() - count} retries after a 421/451, {retried} sent on a later attempt, {received.Count} sent once, 2 failed");
        Assert.InRange(retried, 10, 100);
    }

    [Fact]
    public async Task ConnectionsDroppedBeforeAndAfterData_EveryoneIsSentOnce()
    {
        const int count = 300;
        var dropped = new ConcurrentDictionary<string, bool>();
        Smtp.RecipientAnswer = to =>
            to.StartsWith("drop", StringComparison.Ordinal) && Generated.Number(to) % 7 == 0 && dropped.TryAdd("rcpt:" + to, true)
                ? SmtpAnswer.DropConnection    // hangs up at RCPT TO, before DATA
                : null;
        Smtp.Answer = mail =>
            Generated.Number(mail.To.Single()) % 11 == 0 && dropped.TryAdd("data:" + mail.To.Single(), true)
                ? SmtpAnswer.DropConnection    // hangs up after the data, before its answer; keeps nothing
                : SmtpAnswer.Accept;

        await using var host = Host(Clock()).Start();
        await host.AddConfirmedAsync(count, Confirmed, prefix: "drop");
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));

        var received = Received();
        Assert.Equal(count, received.Count);
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} received {r.Value} messages"));
        Assert.Equal(count, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        Assert.Equal(dropped.Count, await host.CountAsync("SELECT SUM(attempts) - COUNT(*) FROM deliveries"));
        Assert.True(dropped.Count >= 60, $"{dropped.Count} connections dropped");
        Report($"{count} subscribers, {dropped.Count(d => d.Key.StartsWith("rcpt:", StringComparison.Ordinal))} hang-ups at RCPT TO, "
            + $"{dropped.Count(d => d.Key.StartsWith("data:", StringComparison.Ordinal))} after DATA, {received.Count} sent once");
    }

    [Fact]
    public async Task AServerStallingPastTheTimeout_CountsAsTransient_AndEveryoneIsSentOnce()
    {
        const int count = 60;
        var stalled = new ConcurrentDictionary<string, bool>();
        Smtp.Answer = mail =>
        {
            var to = mail.To.Single();
            if (Generated.Number(to) % 20 == 5 && stalled.TryAdd(to, true))
            {
                Thread.Sleep(TimeSpan.FromSeconds(5));    // past Smtp:Timeout; the client has given up by now
                return SmtpAnswer.DropConnection;
            }

            return SmtpAnswer.Accept;
        };

        await using var host = Host(Clock(), ("Smtp:Timeout", "00:00:02")).Start();
        await host.AddConfirmedAsync(count, Confirmed, prefix: "stall");
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));

        var received = Received();
        Assert.Equal(count, received.Count);
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} received {r.Value} messages"));
        Assert.Equal(3, stalled.Count);
        Assert.Equal(3, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND attempts = 2"));
    }

    [Fact]
    public async Task AServerDownForTwoMinutes_TheMailingResumesOnTheRetrySchedule_AndEveryoneIsSentOnce()
    {
        const int count = 400;
        var time = Clock();
        var port = Smtp.Port;
        var goingDown = 0;
        var refused = 0;
        Smtp.Answer = _ =>
        {
            if (Volatile.Read(ref goingDown) == 0)
            {
                return SmtpAnswer.Accept;
            }

            Interlocked.Increment(ref refused);
            return SmtpAnswer.Reply(421, "4.3.2 Service shutting down");
        };

        await using var host = Host(time, ("Campaign:RetryBaseDelay", "00:00:30"), ("Campaign:LeaseDuration", "00:10:00")).Start();
        await host.AddConfirmedAsync(count, Confirmed, prefix: "down");
        await Eventually.MeetsAsync(() => Task.FromResult(Smtp.Messages.Count >= 100), TimeSpan.FromMinutes(1), "100 messages before the outage");

        // The relay says goodbye and goes away: 421 to whatever is under way, then nobody listens on its port.
        Volatile.Write(ref goingDown, 1);
        await Eventually.MeetsAsync(() => Task.FromResult(Volatile.Read(ref refused) > 0), TimeSpan.FromSeconds(30), "a message refused with 421");
        await StopServerAsync();
        var wentDown = time.GetUtcNow();
        var beforeOutage = _receivedByStoppedServers.Count;
        Assert.InRange(beforeOutage, 100, count - 50);

        while (time.GetUtcNow() - wentDown < TimeSpan.FromMinutes(2))
        {
            await MoveToNextRetryAsync(host, time);
        }

        var failedWhileDown = await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'queued' AND attempts > 0");
        Assert.True(failedWhileDown > 0, "attempts were made while the server was down");
        Assert.Equal(beforeOutage, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));

        _servers.Add(await TestSmtpServer.StartAsync(port));
        while (await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending')") > 0)
        {
            await MoveToNextRetryAsync(host, time);
        }

        var received = Received();
        Assert.Equal(count, received.Count);
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} received {r.Value} messages"));
        Assert.Equal(count, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        var maxAttempts = await host.CountAsync("SELECT MAX(attempts) FROM deliveries");
        Report($"{count} subscribers, {beforeOutage} sent before the outage, {failedWhileDown} rows tried while down, "
            + $"at most {maxAttempts} attempts for one, {received.Count} sent once");
        Assert.True(maxAttempts < 6, "nobody ran out of attempts");
    }

    [Fact]
    public async Task AMessageStalledLongerThanTheLease_DoesNotLetTwoJobsSendTheSameBatch()
    {
        const int count = 10;
        var time = Clock();
        using var stalled = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = 0;
        Smtp.Answer = _ =>
        {
            if (Interlocked.Exchange(ref first, 1) == 0)
            {
                stalled.Set();
                release.Wait(TimeSpan.FromMinutes(2));    // the first message hangs until the test lets it go
            }

            return SmtpAnswer.Accept;
        };

        await using var host = Host(time, ("Campaign:BatchSize", "10"), ("Smtp:Connections", "2"), ("Campaign:LeaseDuration", "00:00:05"),
            ("Smtp:Timeout", "00:02:00")).Start();
        await host.AddConfirmedAsync(count, Confirmed, prefix: "lease");
        Assert.True(stalled.Wait(TimeSpan.FromMinutes(1), Cancel), "the first message reached the server");

        // The batch's lease runs out while its first message hangs: another job takes the rows back, as it must.
        time.Advance(TimeSpan.FromMinutes(1));
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(1));
        release.Set();
        await Eventually.MeetsAsync(() => Task.FromResult(Smtp.Messages.Count > count && host.SendJobsRunning() == 0),
            TimeSpan.FromMinutes(1), "the stalled job finished");

        // The stalled message itself went out twice (its row was taken back while it hung); nothing else did.
        var received = Received();
        Assert.Equal(count, received.Count);
        Assert.Equal(count + 1, Smtp.Messages.Count);
        Assert.Single(received, r => r.Value == 2);
    }

    private static void Report(string figures) => TestContext.Current.TestOutputHelper?.WriteLine(figures);

    /// <summary>
    /// Waits (real time) until no row is in flight or due, then moves the fake clock to the next retry moment, so the
    /// retry schedule plays out as it would over minutes.
    /// </summary>
    internal static async Task MoveToNextRetryAsync(CampaignHost host, FakeTimeProvider time)
    {
        long? next = null;
        await Eventually.MeetsAsync(async () =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var state = await host.StateAsync(now);
            next = state.NextRetry;
            return state.Sending == 0 && state.Due == 0;
        }, TimeSpan.FromMinutes(1), "no row in flight or due");

        var nextRetry = next is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
        time.SetUtcNow(nextRetry > time.GetUtcNow() ? nextRetry : time.GetUtcNow() + TimeSpan.FromSeconds(1));
    }
}
