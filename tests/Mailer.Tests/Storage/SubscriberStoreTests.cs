using Mailer.Storage;
using Mailer.Subscribers;

namespace Mailer.Tests.Storage;

/// <summary>
/// The store on both databases: SQLite always; PostgreSQL when <c>MAILER_TEST_POSTGRES</c> names a server
/// (each test in its own database). Without it the PostgreSQL cases skip, except under <c>CI=true</c>, where they fail.
/// </summary>
public class SubscriberStoreTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ResendAfter = TimeSpan.FromMinutes(10);

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SignUp_NewAddress_CreatesAPendingSubscriberWithItsConsent(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);

        var result = await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook", "instagram"]), T0, ResendAfter, Cancel);

        Assert.Equal(SignupOutcome.Created, result.Outcome);
        Assert.True(result.ConfirmationRequested);
        var subscriber = (await db.Store.FindAsync(result.SubscriberId, Cancel))!;
        Assert.Equal(("anna@example.de", "de", SubscriberStatus.Pending, T0, T0), (subscriber.Email, subscriber.Locale, subscriber.Status, subscriber.CreatedAt, subscriber.ConfirmRequestedAt));
        Assert.Equal(["facebook", "instagram"], subscriber.Platforms);
        Assert.Empty(subscriber.DonePlatforms);
        Assert.True(subscriber.AwaitsConfirmationMail);
        var consent = Assert.Single(await db.Store.ConsentsAsync(result.SubscriberId, Cancel));
        Assert.Equal((ConsentSource.Form, "v1/de/abc", T0, "192.0.2.1", "Phone"), (consent.Source, consent.ConsentTextVersion, consent.GivenAt, consent.ClientIp, consent.UserAgent));
        Assert.Equivalent(subscriber, await db.Store.FindByEmailAsync("anna@example.de", Cancel), strict: true);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SignUp_ManyAtOnceForOneAddress_CreateOneSubscriber(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Task.Run(() => db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel))));

        Assert.Single(results, r => r.Outcome == SignupOutcome.Created);
        Assert.Single(results.Select(r => r.SubscriberId).Distinct());
        Assert.Single(results, r => r.ConfirmationRequested);
        Assert.Equal(20, (await db.Store.ConsentsAsync(results[0].SubscriberId, Cancel)).Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SignUp_OfAPendingAddress_TakesTheNewChoices_AndAsksForMailOnlyAfterResendAfter(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var first = await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel);

        var early = await db.Store.SignUpAsync(Signup("anna@example.de", ["instagram"], "en"), T0 + TimeSpan.FromMinutes(9), ResendAfter, Cancel);
        var due = await db.Store.SignUpAsync(Signup("anna@example.de", ["instagram"], "en"), T0 + TimeSpan.FromMinutes(10), ResendAfter, Cancel);

        Assert.Equal((SignupOutcome.StillPending, false), (early.Outcome, early.ConfirmationRequested));
        Assert.Equal((SignupOutcome.StillPending, true), (due.Outcome, due.ConfirmationRequested));
        var subscriber = (await db.Store.FindAsync(first.SubscriberId, Cancel))!;
        Assert.Equal(["instagram"], subscriber.Platforms);
        Assert.Equal("en", subscriber.Locale);
        Assert.Equal(T0 + TimeSpan.FromMinutes(10), subscriber.ConfirmRequestedAt);
        Assert.Equal(T0, subscriber.CreatedAt);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SignUp_OfAConfirmedAddress_ChangesNothing(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var first = await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel);
        await db.Store.ConfirmAsync(first.SubscriberId, T0, "192.0.2.2", Cancel);
        var before = await db.Store.FindAsync(first.SubscriberId, Cancel);

        var again = await db.Store.SignUpAsync(Signup("anna@example.de", ["instagram"], "en"), T0 + TimeSpan.FromDays(1), ResendAfter, Cancel);

        Assert.Equal(new SignupResult(first.SubscriberId, SignupOutcome.AlreadyConfirmed, false), again);
        Assert.Equivalent(before, await db.Store.FindAsync(first.SubscriberId, Cancel), strict: true);
        Assert.Single(await db.Store.ConsentsAsync(first.SubscriberId, Cancel));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Confirm_RecordsTheClickOnTheLatestConsent_OnlyOnce(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var id = (await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0 + TimeSpan.FromMinutes(1), ResendAfter, Cancel);

        var confirmed = await db.Store.ConfirmAsync(id, T0 + TimeSpan.FromHours(1), "192.0.2.9", Cancel);
        var again = await db.Store.ConfirmAsync(id, T0 + TimeSpan.FromHours(2), "192.0.2.10", Cancel);

        Assert.Equal((ConfirmOutcome.Confirmed, ConfirmOutcome.AlreadyConfirmed), (confirmed, again));
        Assert.Equal(ConfirmOutcome.NotFound, await db.Store.ConfirmAsync(id + 100, T0, null, Cancel));
        var consents = await db.Store.ConsentsAsync(id, Cancel);
        Assert.Null(consents[0].ConfirmedAt);
        Assert.Equal((T0 + TimeSpan.FromHours(1), "192.0.2.9"), (consents[1].ConfirmedAt!.Value, consents[1].ConfirmIp));
        Assert.Equal(T0 + TimeSpan.FromHours(1), (await db.Store.FindAsync(id, Cancel))!.ConfirmedAt);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Unsubscribe_WithdrawsEveryConsent_AndAResignupStartsOver(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var id = (await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        await db.Store.ConfirmAsync(id, T0, null, Cancel);

        Assert.True(await db.Store.UnsubscribeAsync(id, T0 + TimeSpan.FromDays(1), Cancel));
        Assert.False(await db.Store.UnsubscribeAsync(id, T0 + TimeSpan.FromDays(2), Cancel));
        Assert.False(await db.Store.UnsubscribeAsync(id + 100, T0, Cancel));
        Assert.Equal(ConfirmOutcome.Unsubscribed, await db.Store.ConfirmAsync(id, T0 + TimeSpan.FromDays(2), null, Cancel));
        var unsubscribed = (await db.Store.FindAsync(id, Cancel))!;
        Assert.Equal((SubscriberStatus.Unsubscribed, T0 + TimeSpan.FromDays(1)), (unsubscribed.Status, unsubscribed.UnsubscribedAt!.Value));

        var back = await db.Store.SignUpAsync(Signup("anna@example.de", ["instagram"]), T0 + TimeSpan.FromDays(3), ResendAfter, Cancel);

        Assert.Equal(new SignupResult(id, SignupOutcome.Resubscribed, true), back);
        var subscriber = (await db.Store.FindAsync(id, Cancel))!;
        Assert.Equal((SubscriberStatus.Pending, (DateTimeOffset?)null, (DateTimeOffset?)null), (subscriber.Status, subscriber.ConfirmedAt, subscriber.UnsubscribedAt));
        var consents = await db.Store.ConsentsAsync(id, Cancel);
        Assert.Equal([T0 + TimeSpan.FromDays(1), null], consents.Select(c => c.WithdrawnAt));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ClicksAndDoneMarks_AreRecordedForSubscribersWhoStayed(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var anna = (await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook", "instagram"]), T0, ResendAfter, Cancel)).SubscriberId;
        var bob = (await db.Store.SignUpAsync(Signup("bob@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        await db.Store.UnsubscribeAsync(bob, T0, Cancel);

        Assert.True(await db.Store.RecordClickAsync(anna, "facebook", T0, LinkClient.Unknown, Cancel));
        Assert.True(await db.Store.MarkDoneAsync(anna, "instagram", T0 + TimeSpan.FromMinutes(1), LinkClient.Unknown, Cancel));
        Assert.True(await db.Store.MarkDoneAsync(anna, "facebook", T0 + TimeSpan.FromMinutes(2), LinkClient.Unknown, Cancel));
        Assert.False(await db.Store.MarkDoneAsync(anna, "facebook", T0 + TimeSpan.FromMinutes(3), LinkClient.Unknown, Cancel));
        Assert.False(await db.Store.RecordClickAsync(bob, "facebook", T0, LinkClient.Unknown, Cancel));
        Assert.False(await db.Store.MarkDoneAsync(bob, "facebook", T0, LinkClient.Unknown, Cancel));
        Assert.False(await db.Store.RecordClickAsync(anna + 100, "facebook", T0, LinkClient.Unknown, Cancel));
        Assert.False(await db.Store.MarkDoneAsync(anna + 100, "facebook", T0, LinkClient.Unknown, Cancel));

        var subscriber = (await db.Store.FindAsync(anna, Cancel))!;
        Assert.Equal(["instagram", "facebook"], subscriber.DonePlatforms);
        Assert.Empty(subscriber.OpenPlatforms);
        Assert.Equal([("click", "facebook"), ("done", "instagram"), ("done", "facebook")],
            (await db.Store.LinkEventsAsync(anna, Cancel)).Select(e => (e.Kind, e.Platform)));
        Assert.Empty(await db.Store.LinkEventsAsync(bob, Cancel));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task LostConfirmations_AreThePendingRequestsQueuedLongAgoWithoutAMailSince_EachTakenOnce(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var sent = (await db.Store.SignUpAsync(Signup("sent@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        var lost = (await db.Store.SignUpAsync(Signup("lost@example.de", ["facebook"]), T0 + TimeSpan.FromSeconds(1), ResendAfter, Cancel)).SubscriberId;
        var confirmed = (await db.Store.SignUpAsync(Signup("confirmed@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        var fresh = (await db.Store.SignUpAsync(Signup("fresh@example.de", ["facebook"]), T0 + TimeSpan.FromMinutes(5), ResendAfter, Cancel)).SubscriberId;
        var claim = (await db.Store.ClaimConfirmationAsync(sent, T0 + TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5), T0 - TimeSpan.FromDays(7), Cancel))!;
        Assert.True(await db.Store.MarkConfirmationSentAsync(claim, T0 + TimeSpan.FromSeconds(3), Cancel));
        await db.Store.ConfirmAsync(confirmed, T0, null, Cancel);

        var now = T0 + TimeSpan.FromHours(1);
        Assert.Equal([lost], await db.Store.TakeLostConfirmationsAsync(now, T0 + TimeSpan.FromMinutes(1), now - TimeSpan.FromDays(7), 10, Cancel));
        Assert.Equal([fresh], await db.Store.TakeLostConfirmationsAsync(now, now, now - TimeSpan.FromDays(7), 1, Cancel));
        Assert.Empty(await db.Store.TakeLostConfirmationsAsync(now, now, now - TimeSpan.FromDays(7), 10, Cancel));

        // A mail sent for an older request leaves the newer one due.
        await db.Store.SignUpAsync(Signup("sent@example.de", ["facebook"]), T0 + TimeSpan.FromMinutes(20), ResendAfter, Cancel);
        Assert.False(await db.Store.MarkConfirmationSentAsync(claim, T0 + TimeSpan.FromMinutes(21), Cancel));
        Assert.True((await db.Store.FindAsync(sent, Cancel))!.AwaitsConfirmationMail);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ConfirmationClaim_IsGivenOnce_UntilReleasedOrItsLeaseRunsOut_AndNeverForAnExpiredRequest(StorageProvider provider)
    {
        await using var db = await SubscriberTestStore.CreateAsync(provider);
        var id = (await db.Store.SignUpAsync(Signup("anna@example.de", ["facebook"]), T0, ResendAfter, Cancel)).SubscriberId;
        var lease = TimeSpan.FromMinutes(5);
        var week = TimeSpan.FromDays(7);

        var first = await db.Store.ClaimConfirmationAsync(id, T0, lease, T0 - week, Cancel);
        var second = await db.Store.ClaimConfirmationAsync(id, T0 + TimeSpan.FromMinutes(4), lease, T0 - week, Cancel);
        var afterTheLease = await db.Store.ClaimConfirmationAsync(id, T0 + lease, lease, T0 - week, Cancel);
        await db.Store.ReleaseConfirmationClaimAsync(afterTheLease!, Cancel);
        var expired = await db.Store.ClaimConfirmationAsync(id, T0 + week, lease, T0, Cancel);
        var released = await db.Store.ClaimConfirmationAsync(id, T0 + TimeSpan.FromMinutes(6), lease, T0 - week, Cancel);

        Assert.Equal(T0, first!.RequestedAt);
        Assert.Null(second);
        Assert.NotNull(afterTheLease);
        Assert.Null(expired);
        Assert.NotNull(released);
        Assert.Empty(await db.Store.TakeLostConfirmationsAsync(T0 + TimeSpan.FromMinutes(7), T0 + TimeSpan.FromMinutes(7), T0 - week, 10, Cancel));
    }

    private static Signup Signup(string email, string[] platforms, string locale = "de") =>
        new(email, locale, platforms, ConsentSource.Form, "v1/" + locale + "/abc", "192.0.2.1", "Phone");

    /// <summary>The subscriber store over a migrated, empty <see cref="TestStore"/> of one provider.</summary>
    private sealed class SubscriberTestStore(TestStore store) : IAsyncDisposable
    {
        public SubscriberStore Store { get; } = new(store.Database);

        public static async Task<SubscriberTestStore> CreateAsync(StorageProvider provider) => new(await TestStore.CreateAsync(provider));

        public ValueTask DisposeAsync() => store.DisposeAsync();
    }
}
