using Dapper;
using Mailer.Bounces;
using Mailer.Campaigns;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Bounces;

/// <summary>What a report does to an address, in the store of both providers.</summary>
public sealed class BounceActionsTests
{
    private static readonly DateTimeOffset Now = new(2024, 5, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly ScheduledMailing Week = new("meta-ai-objection", "reminder-week", Now, Now.AddDays(7));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static BounceReport Report(BounceKind kind, string? status = null) =>
        new(kind, "dsn", status, kind == BounceKind.Complaint ? "Feedback-Type: abuse" : $"smtp; 550 {status}", []);

    /// <summary>A confirmed subscriber with a consent and one sent ledger row per mailing given; the row ids.</summary>
    private static async Task<(long Subscriber, long[] Deliveries)> SubscriberWithMailAsync(Database database, params string[] mailings)
    {
        var id = (await TestStore.AddConfirmedAsync(database, 1, Now.AddDays(-10), prefix: "bouncy"))[0];
        await using var connection = await database.OpenAsync(Cancel);
        await connection.ExecuteAsync(
            "INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, confirmed_at) VALUES (@Id, 'form', '2024-05', @At, @At)",
            new { Id = id, At = Now.AddDays(-10).ToUnixTimeMilliseconds() });
        var rows = new List<long>();
        for (var i = 0; i < mailings.Length; i++)
        {
            var at = Now.AddDays(-mailings.Length + i).ToUnixTimeMilliseconds();
            rows.Add(await connection.ExecuteScalarAsync<long>(
                """
                INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at)
                VALUES (@Id, 'meta-ai-objection', @Mailing, 'sent', 1, @At, @At, @At, @At) RETURNING id
                """, new { Id = id, Mailing = mailings[i], At = at }));
        }

        return (id, [.. rows]);
    }

    private static async Task<SendingState> SendingStateAsync(Database database, long subscriberId)
    {
        await using var connection = await database.OpenAsync(Cancel);
        return (await new DeliveryLedger(database).SendingStateAsync(connection, new ClaimedDelivery { SubscriberId = subscriberId, Mailing = Week.Mailing }))!;
    }

    private static Task<BounceOutcome> RecordAsync(BounceStore store, long deliveryId, BounceReport report, string key) =>
        store.RecordAsync(new BounceTag(BounceTagKind.Delivery, deliveryId), report, key, Now, softLimit: 3, Cancel);

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task HardBounce_StopsAllMailToTheAddress_CheckedAtSendTime(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        var store = new BounceStore(test.Database);

        var outcome = await RecordAsync(store, deliveries[0], Report(BounceKind.Hard, "5.1.1"), "k1");

        Assert.Equal(BounceOutcome.Suppressed, outcome);
        var state = await SendingStateAsync(test.Database, subscriber);
        var decision = DeliveryRules.Decide(Week, state, ["facebook", "instagram"], TimeSpan.Zero, Now);
        Assert.False(decision.Send);
        Assert.Contains("hard bounce 5.1.1", decision.SkipReason, StringComparison.Ordinal);
        var recorded = Assert.Single(await store.EventsAsync(subscriber, Cancel));
        Assert.Equal(("hard", "5.1.1", "announcement", deliveries[0]), (recorded.Kind, recorded.Status, recorded.Mailing, recorded.DeliveryId!.Value));
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task TheSameReportTwice_CountsOnce(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        var store = new BounceStore(test.Database);

        var first = await RecordAsync(store, deliveries[0], Report(BounceKind.Soft, "5.2.2"), "same-key");
        var second = await RecordAsync(store, deliveries[0], Report(BounceKind.Soft, "5.2.2"), "same-key");

        Assert.Equal(BounceOutcome.Recorded, first);
        Assert.Equal(BounceOutcome.Duplicate, second);
        Assert.Single(await store.EventsAsync(subscriber, Cancel));
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task SoftBounces_OfTheLastThreeMessages_StopMail_ButNotTwo(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement", "reminder-week", "reminder-final");
        var store = new BounceStore(test.Database);

        var outcomes = new List<BounceOutcome>();
        foreach (var (delivery, i) in deliveries.Select((d, i) => (d, i)))
        {
            outcomes.Add(await RecordAsync(store, delivery, Report(BounceKind.Soft, "5.2.2"), $"soft{i}"));
            if (i < 2)
            {
                Assert.Null((await SendingStateAsync(test.Database, subscriber)).SuppressedAt);
            }
        }

        Assert.Equal([BounceOutcome.Recorded, BounceOutcome.Recorded, BounceOutcome.Suppressed], outcomes);
        Assert.Contains("3 soft bounces in a row", (await SendingStateAsync(test.Database, subscriber)).SuppressedReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task SoftBounces_WithAMessageBetweenThatCameThrough_AreNotInARow(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement", "reminder-week", "reminder-final");
        var store = new BounceStore(test.Database);

        await RecordAsync(store, deliveries[0], Report(BounceKind.Soft, "4.2.2"), "a");
        await RecordAsync(store, deliveries[0], Report(BounceKind.Soft, "4.4.1"), "a-delayed");   // a second report of the same message
        var last = await RecordAsync(store, deliveries[2], Report(BounceKind.Soft, "4.2.2"), "c");

        Assert.Equal(BounceOutcome.Recorded, last);
        Assert.Null((await SendingStateAsync(test.Database, subscriber)).SuppressedAt);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task Complaint_UnsubscribesAtOnce_AndWithdrawsConsentWithTheReason(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        var store = new BounceStore(test.Database);

        var outcome = await RecordAsync(store, deliveries[0], Report(BounceKind.Complaint), "arf1");

        Assert.Equal(BounceOutcome.Unsubscribed, outcome);
        Assert.Equal("unsubscribed", (await SendingStateAsync(test.Database, subscriber)).Status);
        await using var connection = await test.Database.OpenAsync(Cancel);
        var consent = await connection.QuerySingleAsync<(long? WithdrawnAt, string? Reason)>(
            "SELECT withdrawn_at, withdrawn_reason FROM consents WHERE subscriber_id = @Id", new { Id = subscriber });
        Assert.Equal(Now.ToUnixTimeMilliseconds(), consent.WithdrawnAt);
        Assert.Equal("complaint: Feedback-Type: abuse", consent.Reason);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task PolicyRefusal_AndAutoReply_SuppressNothing(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        var store = new BounceStore(test.Database);

        var policy = await RecordAsync(store, deliveries[0], Report(BounceKind.Policy, "5.7.1"), "p");
        var autoReply = await RecordAsync(store, deliveries[0], Report(BounceKind.AutoReply), "o");

        Assert.Equal([BounceOutcome.Recorded, BounceOutcome.Recorded], [policy, autoReply]);
        var state = await SendingStateAsync(test.Database, subscriber);
        Assert.Null(state.SuppressedAt);
        Assert.Equal("confirmed", state.Status);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task SuppressedAddress_ThatSignsUpAgain_MustConfirmAgain(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        await RecordAsync(new BounceStore(test.Database), deliveries[0], Report(BounceKind.Hard, "5.1.1"), "h");
        var subscribers = new SubscriberStore(test.Database);

        var signup = await subscribers.SignUpAsync(
            new Signup("bouncy0@example.net", "de", ["facebook"], ConsentSource.Form, "2024-05", "192.0.2.1", "test"), Now.AddHours(1), TimeSpan.FromMinutes(10), Cancel);
        var pending = (await subscribers.FindAsync(subscriber, Cancel))!;
        var stillStopped = (await SendingStateAsync(test.Database, subscriber)).SuppressedAt;
        var confirmed = await subscribers.ConfirmAsync(subscriber, Now.AddHours(2), "192.0.2.1", Cancel);

        Assert.Equal((SignupOutcome.Resubscribed, true), (signup.Outcome, signup.ConfirmationRequested));
        Assert.Equal(SubscriberStatus.Pending, pending.Status);
        Assert.NotNull(stillStopped);
        Assert.Equal(ConfirmOutcome.Confirmed, confirmed);
        Assert.Null((await SendingStateAsync(test.Database, subscriber)).SuppressedAt);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task Intake_CountsAReportOnce_AndAForgedTagChangesNothing(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);
        var (subscriber, deliveries) = await SubscriberWithMailAsync(test.Database, "announcement");
        var store = new BounceStore(test.Database);
        var intake = new BounceIntake(BounceSamples.ReturnPath, store, Options.Create(new BouncesOptions()), new FakeTimeProvider(Now),
            NullLogger<BounceIntake>.Instance);
        var forgedAddress = BounceSamples.ReturnPath.ForDelivery(deliveries[0])![..^"@example.org".Length][..^10] + "aaaaaaaaaa@example.org";

        var forged = await intake.TakeAsync(BounceSamples.Load("postfix-unknown-user.mime", tagAddress: forgedAddress), Cancel);
        var noTag = await intake.TakeAsync(BounceSamples.Load("postfix-unknown-user.mime", tagAddress: "bounces@example.org"), Cancel);
        Assert.Null((await SendingStateAsync(test.Database, subscriber)).SuppressedAt);
        var real = BounceSamples.Load("postfix-unknown-user.mime", new BounceTag(BounceTagKind.Delivery, deliveries[0]));
        var first = await intake.TakeAsync(real, Cancel);
        var again = await intake.TakeAsync(BounceSamples.Load("postfix-unknown-user.mime", new BounceTag(BounceTagKind.Delivery, deliveries[0])), Cancel);

        Assert.Equal(new IntakeResult(BounceKind.Hard, null), forged);
        Assert.Equal(new IntakeResult(BounceKind.Hard, null), noTag);
        Assert.Equal(new IntakeResult(BounceKind.Hard, BounceOutcome.Suppressed), first);
        Assert.Equal(new IntakeResult(BounceKind.Hard, BounceOutcome.Duplicate), again);
        Assert.NotNull((await SendingStateAsync(test.Database, subscriber)).SuppressedAt);
    }

    [Theory]
    [MemberData(nameof(TestStore.Providers), MemberType = typeof(TestStore))]
    public async Task Report_ForARowThatIsGone_RecordsNothing(StorageProvider provider)
    {
        await using var test = await TestStore.CreateAsync(provider);

        var outcome = await RecordAsync(new BounceStore(test.Database), 999, Report(BounceKind.Hard, "5.1.1"), "gone");

        Assert.Equal(BounceOutcome.Unknown, outcome);
    }
}
