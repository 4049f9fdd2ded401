using Dapper;
using Mailer.Storage;

namespace Mailer.Tests.Storage;

/// <summary>
/// Migration 007: addresses stored before the local part was case-folded become lower-case, and rows that fold to one
/// address (one person who signed up as <c>Anna@</c> and as <c>anna@</c>) become one row that keeps all their records.
/// </summary>
public sealed class AddressFoldMigrationTests
{
    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task RowsStoredInOtherCase_AreFolded_AndOnePersonsRowsMerged_KeepingTheirLatestDecisionAndEveryRecord(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await using var connection = await store.Database.OpenAsync(Cancel);
        var annaFirst = await InsertAsync(connection, "Anna@example.org", "confirmed", createdAt: 100, confirmedAt: 110, unsubscribedAt: null);
        var annaAgain = await InsertAsync(connection, "anna@example.org", "pending", createdAt: 200, confirmedAt: null, unsubscribedAt: null);
        var bert = await InsertAsync(connection, "Bert@example.org", "confirmed", createdAt: 100, confirmedAt: 110, unsubscribedAt: null);
        var carla = await InsertAsync(connection, "carla@example.org", "confirmed", createdAt: 100, confirmedAt: 110, unsubscribedAt: null);
        var doraLeft = await InsertAsync(connection, "Dora@Example.org", "unsubscribed", createdAt: 100, confirmedAt: 110, unsubscribedAt: 300);
        var doraAgain = await InsertAsync(connection, "dora@example.org", "confirmed", createdAt: 200, confirmedAt: 250, unsubscribedAt: null);
        await connection.ExecuteAsync(
            """
            INSERT INTO consents (subscriber_id, source, consent_text_version, given_at) VALUES (@annaFirst, 'form', 'v1', 100), (@annaAgain, 'api', 'v2', 200);
            INSERT INTO link_events (subscriber_id, kind, platform, at) VALUES (@annaAgain, 'click', 'facebook', 210);
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, created_at, updated_at, not_before)
            VALUES (@annaFirst, 'meta-ai-objection', 'announcement', 'sent', 120, 120, 120), (@annaAgain, 'meta-ai-objection', 'announcement', 'queued', 220, 220, 220),
                   (@annaAgain, 'meta-ai-objection', 'confirm', 'sent', 200, 200, 200), (@doraLeft, 'meta-ai-objection', 'announcement', 'sent', 120, 120, 120),
                   (@doraAgain, 'meta-ai-objection', 'announcement', 'sent', 260, 260, 260);
            """,
            new { annaFirst, annaAgain, doraLeft, doraAgain });

        var migration = SchemaMigrator.Migrations(provider).Single(m => m.Version == 7);
        await using (var transaction = await connection.BeginTransactionAsync(Cancel))
        {
            await connection.ExecuteAsync(migration.Sql, transaction: transaction);
            await transaction.CommitAsync(Cancel);
        }

        var subscribers = (await connection.QueryAsync<(long Id, string Email, string Status)>(
            "SELECT id, email, status FROM subscribers ORDER BY email")).ToList();
        Assert.Equal(
            [(annaFirst, "anna@example.org", "confirmed"), (bert, "bert@example.org", "confirmed"), (carla, "carla@example.org", "confirmed"),
                (doraLeft, "dora@example.org", "unsubscribed")],
            subscribers);
        Assert.Equal(["v1", "v2"], await connection.QueryAsync<string>(
            "SELECT consent_text_version FROM consents WHERE subscriber_id = @annaFirst ORDER BY id", new { annaFirst }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM link_events WHERE subscriber_id = @annaFirst", new { annaFirst }));
        Assert.Equal([("announcement", "sent"), ("confirm", "sent")], await connection.QueryAsync<(string, string)>(
            "SELECT mailing, status FROM deliveries WHERE subscriber_id = @annaFirst ORDER BY mailing", new { annaFirst }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE subscriber_id = @doraLeft", new { doraLeft }));
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task OnAStoreWithNothingToFold_ChangesNothing(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await using var connection = await store.Database.OpenAsync(Cancel);
        var anna = await InsertAsync(connection, "anna@müller.de", "confirmed", createdAt: 100, confirmedAt: 110, unsubscribedAt: null);

        await connection.ExecuteAsync(SchemaMigrator.Migrations(provider).Single(m => m.Version == 7).Sql);

        Assert.Equal([(anna, "anna@müller.de")], await connection.QueryAsync<(long, string)>("SELECT id, email FROM subscribers"));
    }

    private static Task<long> InsertAsync(System.Data.Common.DbConnection connection, string email, string status, long createdAt, long? confirmedAt, long? unsubscribedAt) =>
        connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at, unsubscribed_at)
            VALUES ('meta-ai-objection', @email, 'de', 'facebook', @status, @createdAt, @confirmedAt, @unsubscribedAt) RETURNING id
            """,
            new { email, status, createdAt, confirmedAt, unsubscribedAt });
}
