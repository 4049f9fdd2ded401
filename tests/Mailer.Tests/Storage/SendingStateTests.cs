using Dapper;
using Mailer.Storage;

namespace Mailer.Tests.Storage;

/// <summary>
/// What a send job reads about the address of a row, across campaigns: the last mail another campaign sent it, and
/// another campaign's row to it that a job holds now and that comes first (so two jobs do not both send inside the gap).
/// </summary>
public sealed class SendingStateTests
{
    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task AnotherCampaignsRowInFlight_HoldsBackOnlyTheLaterRow(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await using var connection = await store.Database.OpenAsync(Cancel);
        var meta = await AddSubscriptionAsync(connection, "meta-ai-objection", "anna@example.org");
        var next = await AddSubscriptionAsync(connection, "meta-2025", "anna@example.org");
        var other = await AddSubscriptionAsync(connection, "meta-2025", "bert@example.org");
        var first = await AddRowAsync(connection, meta, "meta-ai-objection", "reminder-week", "sending");
        var second = await AddRowAsync(connection, next, "meta-2025", "announcement", "sending");
        var unrelated = await AddRowAsync(connection, other, "meta-2025", "announcement", "sending");
        var ledger = new DeliveryLedger(store.Database);

        Assert.Equal(1, (await ledger.SendingStateAsync(connection, Row(second, next, "meta-2025", "announcement")))!.ElsewhereInFlight);
        Assert.Equal(0, (await ledger.SendingStateAsync(connection, Row(first, meta, "meta-ai-objection", "reminder-week")))!.ElsewhereInFlight);
        Assert.Equal(0, (await ledger.SendingStateAsync(connection, Row(unrelated, other, "meta-2025", "announcement")))!.ElsewhereInFlight);

        // Once the first is sent it no longer counts as in flight; its time is the gap's start instead.
        await connection.ExecuteAsync("UPDATE deliveries SET status = 'sent', sent_at = 1716102000000 WHERE id = @first", new { first });
        var state = (await ledger.SendingStateAsync(connection, Row(second, next, "meta-2025", "announcement")))!;
        Assert.Equal(0, state.ElsewhereInFlight);
        Assert.Equal(1716102000000, state.LastElsewhereSentAt);
    }

    private static ClaimedDelivery Row(long id, long subscriber, string campaign, string mailing) =>
        new() { Id = id, SubscriberId = subscriber, Campaign = campaign, Mailing = mailing };

    private static Task<long> AddSubscriptionAsync(System.Data.Common.DbConnection connection, string campaign, string email) =>
        connection.ExecuteScalarAsync<long>(
            "INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at) VALUES (@campaign, @email, 'de', 'facebook', 'confirmed', 1, 1) RETURNING id",
            new { campaign, email });

    private static Task<long> AddRowAsync(System.Data.Common.DbConnection connection, long subscriber, string campaign, string mailing, string status) =>
        connection.ExecuteScalarAsync<long>(
            "INSERT INTO deliveries (subscriber_id, campaign, mailing, status, created_at, updated_at, not_before) VALUES (@subscriber, @campaign, @mailing, @status, 1, 1, 1) RETURNING id",
            new { subscriber, campaign, mailing, status });
}
