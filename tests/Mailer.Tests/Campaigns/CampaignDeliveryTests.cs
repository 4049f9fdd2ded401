using Dapper;
using Mailer.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// The campaign end to end: the real store, the real dispatcher and send jobs, a real SMTP server. On SQLite here, on
/// PostgreSQL (store and Hangfire's jobs) in <see cref="CampaignDeliveryOnPostgreSqlTests"/>, which inherits every test.
/// </summary>
public class CampaignDeliveryTests : IAsyncLifetime
{
    // The guide's deadline: 26 May 2024, 23:59:59 in Berlin (UTC+2). Reminders: 19 May 09:00 and 26 May 08:00 local.
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset FinalDue = new(2024, 5, 26, 6, 0, 0, TimeSpan.Zero);

    private TestSmtpServer _smtp = null!;
    private readonly string _data = TestPaths.NewTemporaryDirectory("campaign");

    /// <summary>Where the hosts keep their data: nothing to add for SQLite in the data folder.</summary>
    protected virtual IEnumerable<(string Key, string? Value)> StoreSettings => [];

    public virtual async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public virtual async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    private CampaignHost Host(FakeTimeProvider time, params (string Key, string? Value)[] settings) =>
        new(_data, _smtp, time, StoreSettings.Concat(settings).ToDictionary(s => s.Key, s => s.Value));

    /// <summary>How many messages of each mailing each address received.</summary>
    private Dictionary<(string To, string Mailing), int> Received() =>
        _smtp.Messages
            .GroupBy(m => (m.To.Single(), m.Message.Headers["X-Mailing"]!))
            .ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task SubscribersConfirmingAtDifferentMoments_ReceiveExactlyTheMailsTheRulesGiveThem()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 8, 0, 0, TimeSpan.Zero));
        await using var host = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        await host.AddConfirmedAsync(1, new DateTimeOffset(2024, 4, 30, 12, 0, 0, TimeSpan.Zero), prefix: "early");

        await host.WaitForDispatchRunsAsync();
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM deliveries"));   // not launched yet

        time.SetUtcNow(new DateTimeOffset(2024, 5, 1, 10, 0, 30, TimeSpan.Zero));     // launch
        await host.WaitUntilSettledAsync("announcement", 1);

        time.SetUtcNow(new DateTimeOffset(2024, 5, 10, 10, 0, 0, TimeSpan.Zero));     // between announcement and week reminder
        await host.AddConfirmedAsync(1, time.GetUtcNow(), prefix: "midway");
        await host.WaitUntilSettledAsync("announcement", 2);

        time.SetUtcNow(WeekDue.AddSeconds(30));
        await host.WaitUntilSettledAsync("reminder-week", 2);

        time.SetUtcNow(FinalDue.AddHours(-1));                                         // final day, 07:00 local
        await host.AddConfirmedAsync(1, time.GetUtcNow(), prefix: "finalmorning");
        await host.WaitUntilSettledAsync("announcement", 3);

        time.SetUtcNow(FinalDue.AddSeconds(30));
        await host.WaitUntilSettledAsync("reminder-final", 3);                          // the 07:00 confirmer is skipped: gap

        time.SetUtcNow(FinalDue.AddHours(2));                                          // final day, 10:00 local
        await host.AddConfirmedAsync(1, time.GetUtcNow(), prefix: "finalnoon");
        await host.WaitUntilSettledAsync("announcement", 4);

        time.SetUtcNow(new DateTimeOffset(2024, 5, 27, 10, 0, 0, TimeSpan.Zero));     // after the deadline
        await host.AddConfirmedAsync(1, time.GetUtcNow(), prefix: "late");
        await host.WaitUntilSettledAsync("announcement", 5);
        await host.WaitForDispatchRunsAsync();                                         // a few more dispatches: nothing else goes out

        var expected = new Dictionary<(string, string), int>
        {
            [("early0@example.net", "announcement")] = 1,
            [("early0@example.net", "reminder-week")] = 1,
            [("early0@example.net", "reminder-final")] = 1,
            [("midway0@example.net", "announcement")] = 1,
            [("midway0@example.net", "reminder-week")] = 1,
            [("midway0@example.net", "reminder-final")] = 1,
            [("finalmorning0@example.net", "announcement")] = 1,
            [("finalnoon0@example.net", "announcement")] = 1,
            [("late0@example.net", "announcement")] = 1,
        };
        Assert.Equal(expected.OrderBy(e => e.Key), Received().OrderBy(e => e.Key));
        Assert.Equal(1, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-final' AND status = 'skipped' AND last_reply LIKE '%MinGapBetweenMails%'"));
    }

    [Fact]
    public async Task TenThousandSubscribers_EachReceiveExactlyOneOfEachMailing()
    {
        const int count = 10_000;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 8, 0, 0, TimeSpan.Zero));
        await using var host = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        await host.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero));

        foreach (var (mailing, at) in new[] { ("announcement", new DateTimeOffset(2024, 5, 1, 10, 0, 1, TimeSpan.Zero)), ("reminder-week", WeekDue.AddSeconds(1)), ("reminder-final", FinalDue.AddSeconds(1)) })
        {
            time.SetUtcNow(at);
            await host.WaitUntilSettledAsync(mailing, count, TimeSpan.FromMinutes(3));
        }

        var received = Received();
        Assert.Equal(3 * count, _smtp.Messages.Count);
        Assert.Equal(3 * count, received.Count);
        Assert.All(received.Values, n => Assert.Equal(1, n));
        Assert.Equal(3 * count, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
    }

    [Fact]
    public async Task ARestartInTheMiddleOfAFanOut_WithEmptyJobStorage_EndsWithExactlyOneMailEach()
    {
        const int count = 1500;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        _smtp.Answer = _ =>
        {
            Thread.Sleep(1);   // a server that takes its time, so the restart lands in the middle
            return SmtpAnswer.Accept;
        };

        var first = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        await first.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero));
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count >= 200), TimeSpan.FromMinutes(4), "200 messages before the restart");
        await first.DisposeAsync();
        var beforeRestart = _smtp.Messages.Count;
        Assert.InRange(beforeRestart, 200, count - 1);

        await using var second = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        await second.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(5));

        var received = Received();
        Assert.Equal(count, received.Count);
        Assert.All(received.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, await second.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status <> 'sent'"));
    }

    [Fact]
    public async Task RowsLeasedByAProcessThatDied_AreTakenBackAfterTheLease_AndSentOnce()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00"), ("Campaign:LeaseDuration", "00:02:00"));
        host.Start();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // What a process killed in the middle of a batch leaves behind: rows claimed under a lease that still runs.
        var ids = await host.AddConfirmedAsync(50, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "leased",
            alsoSql: """
                INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, lease_owner, lease_until)
                SELECT id, 'meta-ai-objection', 'announcement', 'sending', 0, @now, @now, @now, 'dead-process', @until FROM subscribers
                """,
            alsoParameters: new { now, until = now + 120_000 });

        await host.WaitForDispatchRunsAsync();
        Assert.Empty(_smtp.Messages);   // the lease still holds

        time.Advance(TimeSpan.FromMinutes(3));
        await host.WaitUntilSettledAsync("announcement", ids.Length);

        Assert.Equal(ids.Length, Received().Count);
        Assert.All(Received().Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task ServerFaults_EndWithEachSubscriberSentOnceOrFailedWithTheReply()
    {
        const int count = 300;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        var refusedOnce = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        var seen = 0;
        _smtp.Answer = mail =>
        {
            var to = mail.To.Single();
            var n = Interlocked.Increment(ref seen);
            if (to.StartsWith("fault7", StringComparison.Ordinal) || to.StartsWith("fault13", StringComparison.Ordinal))
            {
                return SmtpAnswer.Reply(550, "5.1.1 User unknown");
            }

            if (n % 10 == 0 && refusedOnce.TryAdd(to, true))
            {
                return SmtpAnswer.Reply(451, "4.3.0 Try again later");
            }

            return n == 150 ? SmtpAnswer.DropConnection : SmtpAnswer.Accept;
        };

        await using var host = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        await host.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "fault");
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(5));

        var received = Received();
        Assert.All(received.Values, n => Assert.Equal(1, n));
        var refused = new[] { "fault7@example.net", "fault13@example.net" }
            .Concat(Enumerable.Range(70, 10).Select(i => $"fault{i}@example.net"))
            .Concat(Enumerable.Range(130, 10).Select(i => $"fault{i}@example.net"))
            .ToHashSet();
        Assert.Equal(count - refused.Count, received.Count);
        Assert.DoesNotContain(received.Keys, k => refused.Contains(k.To));
        Assert.Equal(refused.Count, await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND last_reply LIKE '550%User unknown%'"));
        Assert.True(await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND attempts > 1") >= 1,
            "the messages answered 451 went out on a later attempt");
    }

    [Fact]
    public async Task AnUnsubscribeAndADoneMarkArrivingDuringAFanOut_StopTheirRemindersAtOnce()
    {
        const int count = 1000;
        var time = new FakeTimeProvider(WeekDue.AddHours(-2));
        _smtp.Answer = _ =>
        {
            Thread.Sleep(1);
            return SmtpAnswer.Accept;
        };

        await using var host = Host(time, ("Campaign:LaunchAt", "2024-05-01T12:00:00")).Start();
        // Everyone had the announcement long ago.
        var longAgo = new DateTimeOffset(2024, 5, 1, 10, 1, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var ids = await host.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "mid",
            alsoSql: "INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at) SELECT id, 'meta-ai-objection', 'announcement', 'sent', 1, @t, @t, @t, @t FROM subscribers",
            alsoParameters: new { t = longAgo });

        time.SetUtcNow(WeekDue.AddSeconds(1));
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count >= 100), TimeSpan.FromMinutes(4), "100 reminders out");
        var lastHundred = ids[^100..];
        var doneHundred = ids[^200..^100];
        // The marks and a look at what was sent by then, in one transaction: no outcome is recorded in between.
        long[] sentBeforeTheMarks;
        await using (var connection = await host.Database.OpenAsync(TestContext.Current.CancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await connection.ExecuteAsync("UPDATE subscribers SET status = 'unsubscribed' WHERE id >= @first", new { first = lastHundred[0] }, transaction);
            await connection.ExecuteAsync("UPDATE subscribers SET done_platforms = 'facebook,instagram' WHERE id >= @first AND id <= @last",
                new { first = doneHundred[0], last = doneHundred[^1] }, transaction);
            sentBeforeTheMarks = [.. await connection.QueryAsync<long>(
                "SELECT subscriber_id FROM deliveries WHERE mailing = 'reminder-week' AND status = 'sent' AND subscriber_id >= @first",
                new { first = doneHundred[0] }, transaction)];
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        await host.WaitUntilSettledAsync("reminder-week", count, TimeSpan.FromMinutes(5));

        var stillSent = _smtp.Messages.Count(m => m.Message.Headers["X-Mailing"] == "reminder-week");
        var skippedUnsubscribed = await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-week' AND status = 'skipped' AND last_reply LIKE '%unsubscribed%'");
        var skippedDone = await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-week' AND status = 'skipped' AND last_reply LIKE '%done%'");
        // Sent to a leaver after the marks: only a message already in flight then (its subscriber read before), at most
        // one per connection. A job that read the subscribers once per batch would send the rest of its batches.
        var sentToLeavers = (await host.CountAsync(
            "SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-week' AND status = 'sent' AND subscriber_id >= @first",
            new { first = doneHundred[0] })) - sentBeforeTheMarks.Length;
        var connections = host.Services.GetRequiredService<IOptions<SmtpOptions>>().Value.Connections;

        Assert.Equal(count, stillSent + skippedUnsubscribed + skippedDone);
        Assert.True(skippedUnsubscribed > 0 && skippedDone > 0, $"skipped: {skippedUnsubscribed} unsubscribed, {skippedDone} done");
        Assert.InRange(sentToLeavers, 0, connections);
        Assert.All(Received().Values, n => Assert.Equal(1, n));
    }
}
