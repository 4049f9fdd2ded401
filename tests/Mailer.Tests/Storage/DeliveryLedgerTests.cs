using System.Collections.Concurrent;
using Dapper;
using Mailer.Storage;

namespace Mailer.Tests.Storage;

/// <summary>
/// The ledger's SQL on both databases, under the concurrency several instances bring: many dispatchers writing the same
/// rows, many send jobs claiming at once, a job that died with rows under lease.
/// </summary>
public sealed class DeliveryLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CreateRows_RunByManyDispatchersAtOnce_WritesOneRowPerSubscriber(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await AddConfirmedAsync(store, 3000, T0.AddDays(-1));
        var ledgers = Enumerable.Range(0, 6).Select(_ => new DeliveryLedger(store.OpenAnother())).ToList();

        var created = await Task.WhenAll(ledgers.Select(ledger =>
            Task.Run(() => ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel))));

        Assert.Equal(3000, created.Sum());
        Assert.Equal(3000, await CountAsync(store, "SELECT COUNT(*) FROM deliveries WHERE mailing = 'announcement' AND status = 'queued'"));
        Assert.Equal(3000, await CountAsync(store, "SELECT COUNT(DISTINCT subscriber_id) FROM deliveries"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CreateRows_LeavesOutTheUnconfirmed_TheLateAndThoseWithAMailUnderWay(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        var ids = await AddConfirmedAsync(store, 5, T0.AddDays(-1));
        await ExecuteAsync(store, "UPDATE subscribers SET status = 'pending', confirmed_at = NULL WHERE id = @Id", new { Id = ids[0] });
        await ExecuteAsync(store, "UPDATE subscribers SET confirmed_at = @Late WHERE id = @Id", new { Id = ids[1], Late = T0.ToUnixTimeMilliseconds() });
        await ExecuteAsync(store,
            "INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before) VALUES (@Id, 'meta-ai-objection', 'reminder-week', 'queued', 0, 1, 1, 1)",
            new { Id = ids[2] });

        var created = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0, Cancel);
        var again = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0, Cancel);

        Assert.Equal((2, 0), (created, again));
        Assert.Equal([ids[3], ids[4]], await QueryAsync<long>(store, "SELECT subscriber_id FROM deliveries WHERE mailing = 'reminder-final' ORDER BY subscriber_id"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Claim_ByManyJobsAtOnce_LeasesEveryRowToExactlyOneJob(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await AddConfirmedAsync(store, 2000, T0.AddDays(-1));
        await new DeliveryLedger(store.Database).CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var ledgers = Enumerable.Range(0, 8).Select(_ => new DeliveryLedger(store.OpenAnother())).ToList();
        var claims = new ConcurrentBag<(string Owner, long Id)>();

        await Task.WhenAll(ledgers.Select((ledger, job) => Task.Run(async () =>
        {
            var owner = $"job{job}";
            IReadOnlyList<ClaimedDelivery> rows;
            while ((rows = await ledger.ClaimAsync(TestStore.Campaign, "announcement", owner, 37, T0, T0 + Lease, Cancel)).Count > 0)
            {
                foreach (var row in rows)
                {
                    claims.Add((owner, row.Id));
                }
            }
        })));

        Assert.Equal(2000, claims.Count);
        Assert.Equal(2000, claims.Select(c => c.Id).Distinct().Count());
        var owners = await QueryAsync<(long Id, string Owner)>(store, "SELECT id, lease_owner FROM deliveries WHERE status = 'sending'");
        Assert.Equal(claims.OrderBy(c => c.Id).Select(c => (c.Id, c.Owner)), owners.OrderBy(o => o.Id));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task RowsOfAJobThatDied_AreClaimedAgainOnlyAfterTheLease_AndTheDeadJobCanNoLongerRecordThem(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await AddConfirmedAsync(store, 10, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var dead = await ledger.ClaimAsync(TestStore.Campaign, "announcement", "dead", 4, T0, T0 + Lease, Cancel);

        var duringLease = await ledger.ClaimAsync(TestStore.Campaign, "announcement", "alive", 100, T0.AddMinutes(1), T0.AddMinutes(1) + Lease, Cancel);
        var claimableAfter = await ledger.CountClaimableAsync(TestStore.Campaign, "announcement", T0.AddMinutes(3), long.MaxValue, Cancel);
        var afterLease = await ledger.ClaimAsync(TestStore.Campaign, "announcement", "heir", 100, T0.AddMinutes(3), T0.AddMinutes(3) + Lease, Cancel);

        Assert.Equal(6, duringLease.Count);
        Assert.DoesNotContain(duringLease, row => dead.Any(d => d.Id == row.Id));
        Assert.Equal(4, claimableAfter);
        Assert.Equal(dead.Select(d => d.Id), afterLease.Select(r => r.Id));
        await using var connection = await store.Database.OpenAsync(Cancel);
        Assert.Equal(0, await ledger.RecordAsync(connection, "dead", [
            DeliveryOutcome.Sent(dead[0].Id, T0.AddMinutes(4), "<a@x>", "250 ok"),
            DeliveryOutcome.Requeued(dead[1].Id, attempted: true, T0.AddMinutes(4), T0.AddMinutes(4), "451")]));
        Assert.Equal(2, await ledger.RecordAsync(connection, "heir", [
            DeliveryOutcome.Sent(dead[0].Id, T0.AddMinutes(4), "<a@x>", "250 ok"),
            DeliveryOutcome.Finished(dead[1].Id, "failed", attempted: true, T0.AddMinutes(4), "550 no")]));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task RecordOne_FromSeveralJobsAtOnce_EachCommittedBeforeItsAnswer_OnlyWhileTheLeaseIsTheJobs(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await AddConfirmedAsync(store, 40, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var jobs = new[] { "a", "b", "c", "d" };
        var claimed = new Dictionary<string, IReadOnlyList<ClaimedDelivery>>();
        foreach (var job in jobs)
        {
            claimed[job] = await ledger.ClaimAsync(TestStore.Campaign, "announcement", job, 10, T0, T0 + Lease, Cancel);
        }

        // Four jobs record their rows at the same time, as four send jobs do; job d records rows that are c's.
        var recorded = await Task.WhenAll(jobs.SelectMany(job => claimed[job == "d" ? "c" : job].Select(row => Task.Run(async () =>
        {
            await using var connection = await store.Database.OpenAsync(Cancel);
            var count = await ledger.RecordAsync(connection, job, DeliveryOutcome.Sent(row.Id, T0.AddMinutes(1), $"<{row.Id}@x>", "250 ok"));
            await using var reader = await store.Database.OpenAsync(Cancel);
            var status = await reader.ExecuteScalarAsync<string>("SELECT status FROM deliveries WHERE id = @Id", new { row.Id });
            return (job, count, status);
        }, Cancel))));

        Assert.All(recorded.Where(r => r.job != "d"), r => Assert.Equal((1, "sent"), (r.count, r.status)));
        Assert.All(recorded.Where(r => r.job == "d"), r => Assert.Equal(0, r.count));
        Assert.Equal(30, recorded.Count(r => r.count == 1));
        Assert.Equal(10, await ledger.CountClaimableAsync(TestStore.Campaign, "announcement", T0 + Lease + TimeSpan.FromSeconds(1), long.MaxValue, Cancel));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ALeaseRenewedInTime_KeepsTheRowsFromOtherJobs(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await AddConfirmedAsync(store, 3, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var claimed = await ledger.ClaimAsync(TestStore.Campaign, "announcement", "slow", 3, T0, T0 + Lease, Cancel);

        var renewed = await ledger.RenewLeaseAsync("slow", [.. claimed.Select(row => row.Id)], T0.AddMinutes(1) + Lease, Cancel);

        Assert.Equal(3, renewed);
        Assert.Empty(await ledger.ClaimAsync(TestStore.Campaign, "announcement", "other", 3, T0.AddMinutes(2.5), T0.AddMinutes(2.5) + Lease, Cancel));
        Assert.Equal(3, (await ledger.ClaimAsync(TestStore.Campaign, "announcement", "other", 3, T0.AddMinutes(3.5), T0.AddMinutes(3.5) + Lease, Cancel)).Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ARequeuedRow_WaitsForItsNotBefore_AndCountsItsAttempts(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await AddConfirmedAsync(store, 1, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var row = Assert.Single(await ledger.ClaimAsync(TestStore.Campaign, "announcement", "job", 10, T0, T0 + Lease, Cancel));
        await using (var connection = await store.Database.OpenAsync(Cancel))
        {
            await ledger.RecordAsync(connection, "job", [DeliveryOutcome.Requeued(row.Id, attempted: true, T0, T0.AddMinutes(1), "451 4.3.0 later")]);
        }

        Assert.Empty(await ledger.ClaimAsync(TestStore.Campaign, "announcement", "job", 10, T0.AddSeconds(59), T0.AddSeconds(59) + Lease, Cancel));
        var again = Assert.Single(await ledger.ClaimAsync(TestStore.Campaign, "announcement", "job", 10, T0.AddMinutes(1), T0.AddMinutes(1) + Lease, Cancel));
        Assert.Equal((row.Id, 1), (again.Id, again.Attempts));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CountsHistoryAndSkips_ReadTheSameOnBothDatabases(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        var ids = await AddConfirmedAsync(store, 4, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);
        var rows = await ledger.ClaimAsync(TestStore.Campaign, "announcement", "job", 2, T0, T0 + Lease, Cancel);
        await using (var connection = await store.Database.OpenAsync(Cancel))
        {
            await ledger.RecordAsync(connection, "job", [DeliveryOutcome.Sent(rows[0].Id, T0.AddSeconds(1), "<m1@example.org>", "250 2.0.0 Ok: queued as " + new string('x', 600))]);
        }

        var skipped = await ledger.SkipUnsentAsync(TestStore.Campaign, "announcement", T0.AddMinutes(1), "skipped: its moment passed", Cancel);
        var counts = Assert.Single(await ledger.CountsAsync(Cancel));
        var history = Assert.Single(await ledger.HistoryAsync(ids[0], Cancel));
        var snapshot = await ledger.SubscriberAsync(TestStore.Campaign, "person0@example.net", Cancel);

        Assert.Equal(2, skipped);   // the two queued; the leased one is still its job's
        Assert.Equal(("announcement", 0L, 1L, 1L, 0L, 2L, 4L), (counts.Mailing, counts.Queued, counts.Sending, counts.Sent, counts.Failed, counts.Skipped, counts.Recipients));
        Assert.Equal(("sent", 1, T0.AddSeconds(1).ToUnixTimeMilliseconds(), "<m1@example.org>", 500), (history.Status, history.Attempts, history.SentAt, history.MessageId, history.LastReply!.Length));
        Assert.Equal((ids[0], "confirmed", "facebook,instagram"), (snapshot!.Id, snapshot.Status, snapshot.Platforms));
        Assert.Null(await ledger.SubscriberAsync(TestStore.Campaign, "nobody@example.net", Cancel));
        Assert.Equal(0, await ledger.CountClaimableAsync(TestStore.Campaign, "announcement", T0.AddMinutes(1), long.MaxValue, Cancel));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Launch_CalledByManyInstancesAtOnce_RecordsOneMoment(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledgers = Enumerable.Range(0, 5).Select(_ => new DeliveryLedger(store.OpenAnother())).ToList();

        var moments = await Task.WhenAll(ledgers.Select((ledger, i) => Task.Run(() => ledger.LaunchAsync(TestStore.Campaign, T0.AddSeconds(i), Cancel))));

        Assert.Single(moments.Distinct());
        Assert.Contains(moments[0], Enumerable.Range(0, 5).Select(i => T0.AddSeconds(i)));
    }

    private static Task<long[]> AddConfirmedAsync(TestStore store, int count, DateTimeOffset confirmedAt) =>
        TestStore.AddConfirmedAsync(store.Database, count, confirmedAt);

    private static async Task<long> CountAsync(TestStore store, string sql)
    {
        await using var connection = await store.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private static async Task<List<T>> QueryAsync<T>(TestStore store, string sql)
    {
        await using var connection = await store.Database.OpenAsync();
        return [.. await connection.QueryAsync<T>(sql)];
    }

    private static async Task ExecuteAsync(TestStore store, string sql, object parameters)
    {
        await using var connection = await store.Database.OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }
}
