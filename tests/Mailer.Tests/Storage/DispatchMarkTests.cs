using System.Data.Common;
using Dapper;
using Mailer.Storage;

namespace Mailer.Tests.Storage;

/// <summary>
/// Row creation after a mailing's first pass looks only at what changed (migration 010): whoever became confirmed since,
/// whoever was held back behind another mail. These are the ways a watermark could leave someone without their row.
/// </summary>
public sealed class DispatchMarkTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SubscriberWhoConfirmsAfterThePass_GetsTheRowAtTheNext(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await TestStore.AddConfirmedAsync(store.Database, 100, T0.AddDays(-1));
        var late = await AddPendingAsync(store, "late");
        Assert.Equal(100, await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel));

        await ConfirmAsync(store.Database, late, T0.AddHours(1));
        var next = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0.AddHours(1), Cancel);
        var again = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0.AddHours(2), Cancel);

        Assert.Equal((1, 0), (next, again));
        Assert.Equal(1, await CountAsync(store, $"SELECT COUNT(*) FROM deliveries WHERE subscriber_id = {late}"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task PassAfterTheFirst_LooksOnlyAtWhatChanged(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        var ids = await TestStore.AddConfirmedAsync(store.Database, 10, T0.AddDays(-1));
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel);
        // A row gone without any change to its subscriber (no path of the service does this): only a whole-list read
        // would notice, and a pass with nothing changed does not read the list. The mark goes too: on PostgreSQL a
        // transaction still running elsewhere on the server keeps the watermark back, and recent marks are read again.
        await ExecuteAsync(store, $"DELETE FROM deliveries WHERE subscriber_id = {ids[3]}");
        await ExecuteAsync(store, $"UPDATE subscribers SET confirm_mark = NULL WHERE id = {ids[3]}");

        var incremental = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel);
        // Another rule of who the mailing is for starts from the whole list again.
        var whole = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", T0, "queued", null, T0, Cancel);

        Assert.Equal((0, 1), (incremental, whole));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ImportAfterAReminderWasDue_WithConsentFromBefore_GetsTheReminder(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        await TestStore.AddConfirmedAsync(store.Database, 5, T0.AddDays(-2));
        Assert.Equal(5, await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0, Cancel));

        await TestStore.AddConfirmedAsync(store.Database, 3, T0.AddDays(-1), "imported");
        await TestStore.AddConfirmedAsync(store.Database, 2, T0.AddHours(1), "after");

        Assert.Equal(3, await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0.AddHours(2), Cancel));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SubscriberHeldBackByAnotherMail_GetsTheRowOnceThatMailHasFinished(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var ledger = new DeliveryLedger(store.Database);
        var ids = await TestStore.AddConfirmedAsync(store.Database, 4, T0.AddDays(-1));
        await ExecuteAsync(store,
            $"INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before) VALUES ({ids[1]}, 'meta-ai-objection', 'announcement', 'queued', 0, 1, 1, 1)");

        var first = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0, Cancel);
        var whileQueued = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0.AddMinutes(1), Cancel);
        await ExecuteAsync(store, $"UPDATE deliveries SET status = 'sending' WHERE subscriber_id = {ids[1]}");
        var whileSending = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0.AddMinutes(2), Cancel);
        await ExecuteAsync(store, $"UPDATE deliveries SET status = 'sent', sent_at = 1 WHERE subscriber_id = {ids[1]}");
        var afterSent = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0.AddMinutes(3), Cancel);
        var again = await ledger.CreateRowsAsync(TestStore.Campaign, "reminder-final", T0, "queued", null, T0.AddMinutes(4), Cancel);

        Assert.Equal((3, 0, 0, 1, 0), (first, whileQueued, whileSending, afterSent, again));
        Assert.Equal(1, await CountAsync(store, $"SELECT COUNT(*) FROM deliveries WHERE subscriber_id = {ids[1]} AND mailing = 'reminder-final'"));
        Assert.Equal(0, await CountAsync(store, "SELECT COUNT(*) FROM dispatch_held"));
    }

    [Fact]
    public async Task ConfirmationCommittedAfterALaterOne_IsNotPassedByTheMark()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.PostgreSql);
        var ledger = new DeliveryLedger(store.Database);
        var early = await AddPendingAsync(store, "early");
        var later = await AddPendingAsync(store, "later");
        await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel);

        // The earlier confirmation's transaction takes its mark first and commits last.
        await using var slow = await store.Database.OpenAsync(Cancel);
        await using var transaction = await slow.BeginTransactionAsync(Cancel);
        await ConfirmAsync(slow, early, T0.AddMinutes(1), transaction);
        await ConfirmAsync(store.Database, later, T0.AddMinutes(2));
        var whileOpen = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0.AddMinutes(3), Cancel);
        await transaction.CommitAsync(Cancel);
        var afterCommit = await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0.AddMinutes(4), Cancel);

        Assert.Equal((1, 1), (whileOpen, afterCommit));
    }

    [Fact]
    public async Task DispatchersRunningBesideConfirmations_OnPostgreSql_LeaveNobodyWithoutTheRow()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.PostgreSql);
        var pending = new List<long>();
        for (var i = 0; i < 300; i++)
        {
            pending.Add(await AddPendingAsync(store, $"p{i}"));
        }

        var ledgers = Enumerable.Range(0, 4).Select(_ => new DeliveryLedger(store.OpenAnother())).ToList();
        using var done = new CancellationTokenSource();
        var dispatchers = ledgers.Select(ledger => Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await ledger.CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel);
            }
        })).ToList();

        // Confirmations in transactions of a few, four at a time, each held open a moment: they commit out of order.
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var database = store.OpenAnother();
            foreach (var chunk in pending.Where((_, i) => i % 4 == w).Chunk(5))
            {
                await using var connection = await database.OpenAsync(Cancel);
                await using var transaction = await connection.BeginTransactionAsync(Cancel);
                foreach (var id in chunk)
                {
                    await ConfirmAsync(connection, id, T0, transaction);
                }

                await Task.Delay(Random.Shared.Next(0, 20), Cancel);
                await transaction.CommitAsync(Cancel);
            }
        })).ToList();
        await Task.WhenAll(writers);
        await done.CancelAsync();
        await Task.WhenAll(dispatchers);
        await ledgers[0].CreateRowsAsync(TestStore.Campaign, "announcement", DateTimeOffset.MaxValue, "queued", null, T0, Cancel);

        Assert.Equal(300, await CountAsync(store, "SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(300, await CountAsync(store, "SELECT COUNT(DISTINCT subscriber_id) FROM deliveries"));
    }

    private static async Task<long> AddPendingAsync(TestStore store, string prefix)
    {
        await using var connection = await store.Database.OpenAsync(Cancel);
        return await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at)
            VALUES ('meta-ai-objection', @Email, 'de', 'facebook', 'pending', 1) RETURNING id
            """,
            new { Email = $"{prefix}@example.net" });
    }

    // As the confirmation link does (SubscriberStore's ConfirmPending).
    private static async Task ConfirmAsync(Database database, long id, DateTimeOffset at)
    {
        await using var connection = await database.OpenAsync(Cancel);
        await ConfirmAsync(connection, id, at, null);
    }

    private static Task ConfirmAsync(DbConnection connection, long id, DateTimeOffset at, DbTransaction? transaction) =>
        connection.ExecuteAsync("UPDATE subscribers SET status = 'confirmed', confirmed_at = @At WHERE id = @Id AND status = 'pending'",
            new { Id = id, At = at.ToUnixTimeMilliseconds() }, transaction);

    private static async Task<long> CountAsync(TestStore store, string sql)
    {
        await using var connection = await store.Database.OpenAsync(Cancel);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private static async Task ExecuteAsync(TestStore store, string sql)
    {
        await using var connection = await store.Database.OpenAsync(Cancel);
        await connection.ExecuteAsync(sql);
    }
}
