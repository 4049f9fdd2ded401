using Dapper;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailer.Tests.Storage;

/// <summary>
/// Migration 011 on a store the release before several campaigns left mid-campaign: its people become subscriptions of
/// the configured campaign, the ledger keeps every row (nobody gets a mail twice or loses one), the recorded launch and
/// a paused mailing carry over, and the same address may then join another campaign.
/// </summary>
public sealed class CampaignsUpgradeTests
{
    private const int LastVersionBefore = 10;
    private const string Upgraded = "meta-ai-objection";
    private static readonly DateTimeOffset Now = new(2024, 5, 20, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task AStoreMidCampaign_BecomesTheConfiguredCampaign_KeepingEveryLedgerRowAndTheLaunch(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider, upToVersion: LastVersionBefore);
        long anna, bert, carla;
        await using (var connection = await store.Database.OpenAsync(Cancel))
        {
            anna = await InsertOldAsync(connection, "anna@example.org", "confirmed");
            bert = await InsertOldAsync(connection, "bert@example.org", "confirmed");
            carla = await InsertOldAsync(connection, "carla@example.org", "unsubscribed");
            await connection.ExecuteAsync(
                """
                INSERT INTO deliveries (subscriber_id, mailing, status, attempts, created_at, updated_at, not_before, sent_at)
                VALUES (@anna, 'announcement', 'sent', 1, 100, 100, 100, 100), (@bert, 'announcement', 'sent', 1, 100, 100, 100, 100),
                       (@carla, 'announcement', 'sent', 1, 100, 100, 100, 100);
                INSERT INTO deliveries (subscriber_id, mailing, status, attempts, created_at, updated_at, not_before)
                VALUES (@anna, 'reminder-week', 'queued', 0, 200, 200, 200);
                INSERT INTO campaign_state (name, value) VALUES ('launched_at', '1714557600000'), ('paused:reminder-week', 'too many bounces');
                """,
                new { anna, bert, carla });
        }

        await new SchemaMigrator(store.Database, NullLogger<SchemaMigrator>.Instance, new StoreCampaign(Upgraded)).MigrateAsync(Cancel);

        await using (var connection = await store.Database.OpenAsync(Cancel))
        {
            Assert.Equal([Upgraded], await connection.QueryAsync<string>("SELECT DISTINCT campaign FROM subscribers"));
            Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscribers"));
            Assert.Equal(
                [(anna, Upgraded, "announcement", "sent"), (anna, Upgraded, "reminder-week", "queued"), (bert, Upgraded, "announcement", "sent"), (carla, Upgraded, "announcement", "sent")],
                await connection.QueryAsync<(long, string, string, string)>("SELECT subscriber_id, campaign, mailing, status FROM deliveries ORDER BY subscriber_id, mailing"));
            Assert.Equal("too many bounces", await connection.ExecuteScalarAsync<string>("SELECT value FROM campaign_state WHERE name = 'paused:meta-ai-objection/reminder-week'"));
            // The consent and link history stays attached: foreign keys still point at the subscriptions.
            Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM consents c JOIN subscribers s ON s.id = c.subscriber_id"));
        }

        var ledger = new DeliveryLedger(store.Database);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1714557600000), await ledger.LaunchAsync(Upgraded, Now, Cancel));
        // The next dispatch finds nobody missing the announcement, and the queued reminder is still Anna's to get.
        Assert.Equal(0, await ledger.CreateRowsAsync(Upgraded, "announcement", Now, "queued", null, Now, Cancel));
        var claimed = await ledger.ClaimAsync(Upgraded, "reminder-week", "test", 10, Now, Now.AddMinutes(2), Cancel);
        Assert.Equal([anna], claimed.Select(c => c.SubscriberId));

        // The same address may now join a second campaign, as a subscription of its own.
        var subscribers = new SubscriberStore(store.Database, new StoreCampaign(Upgraded));
        var signup = new Signup("anna@example.org", "de", ["facebook"], ConsentSource.Api, "v1", null, null) { Campaign = "tiktok-2025" };
        var result = await subscribers.SignUpAsync(signup, Now, TimeSpan.FromMinutes(10), Cancel);
        Assert.Equal(SignupOutcome.Created, result.Outcome);
        Assert.NotEqual(anna, result.SubscriberId);
        Assert.Equal(SubscriberStatus.Confirmed, (await subscribers.FindByEmailAsync("anna@example.org", Cancel))!.Status);
        Assert.Equal(SubscriberStatus.Pending, (await subscribers.FindByEmailAsync("anna@example.org", Cancel, "tiktok-2025"))!.Status);
    }

    private static async Task<long> InsertOldAsync(System.Data.Common.DbConnection connection, string email, string status)
    {
        var id = await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO subscribers (email, locale, platforms, status, created_at, confirmed_at)
            VALUES (@email, 'de', 'facebook,instagram', @status, 50, 60) RETURNING id
            """,
            new { email, status });
        await connection.ExecuteAsync(
            "INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, confirmed_at) VALUES (@id, 'form', 'v1', 50, 60)", new { id });
        return id;
    }
}
