using Dapper;
using Mailer.Storage;
using Mailer.Subscribers;

namespace Mailer.Tests.Storage;

/// <summary>
/// The standing list in the store: its own consent at signup, confirmed with the signup; a new campaign's invitation
/// once per person on it, as a pending subscription whose confirmation (the button behind the invitation's link)
/// subscribes them; leave everything takes them off it.
/// </summary>
public sealed class StandingListTests
{
    private const string Next = "tiktok-2025";
    private static readonly DateTimeOffset Now = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TheStandingListChoice_IsItsOwnConfirmedConsent_AndANewCampaignInvitesOnlyThoseWhoTickedIt(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var subscribers = new SubscriberStore(store.Database);
        var anna = await SignUpAndConfirmAsync(subscribers, "anna@example.org", standingList: true);
        var bert = await SignUpAndConfirmAsync(subscribers, "bert@example.org", standingList: false);
        var cora = await SignUpAndConfirmAsync(subscribers, "cora@example.org", standingList: true);

        var consents = await subscribers.ConsentsAsync(anna, Cancel);
        Assert.Equal(2, consents.Count);
        Assert.All(consents, c => Assert.Equal(Now.AddMinutes(1), c.ConfirmedAt));
        Assert.Single(await subscribers.ConsentsAsync(bert, Cancel));
        Assert.Equal(["anna@example.org", "cora@example.org"], await QueryAsync<string>(store, "SELECT email FROM subscribers WHERE standing_list_at IS NOT NULL ORDER BY email"));

        Assert.False(await subscribers.InvitedAsync(Next, Cancel));
        Assert.Equal(2, (await subscribers.InviteStandingListAsync(Next, ["tiktok"], Now.AddDays(1), Cancel)).Count);
        Assert.Empty(await subscribers.InviteStandingListAsync(Next, ["tiktok"], Now.AddDays(1), Cancel));
        Assert.True(await subscribers.InvitedAsync(Next, Cancel));

        var invited = (await subscribers.FindByEmailAsync("anna@example.org", Cancel, Next))!;
        Assert.Equal(SubscriberStatus.Pending, invited.Status);
        Assert.Equal(Now.AddDays(1), invited.InvitedAt);
        Assert.True(invited.AwaitsConfirmationMail);
        Assert.Null(await subscribers.FindByEmailAsync("bert@example.org", Cancel, Next));
        var proof = Assert.Single(await subscribers.ConsentsAsync(invited.Id, Cancel));
        Assert.Equal(ConsentSource.Invite, proof.Source);
        Assert.StartsWith("standing-list:standing-list/de/", proof.ConsentTextVersion, StringComparison.Ordinal);

        // "Remind me for this one": the invitation's button confirms the subscription to the new campaign.
        Assert.Equal(ConfirmOutcome.Confirmed, await subscribers.ConfirmAsync(invited.Id, Now.AddDays(2), "192.0.2.9", Cancel));
        Assert.Equal(SubscriberStatus.Confirmed, (await subscribers.FindAsync(invited.Id, Cancel))!.Status);

        // Unsubscribing from the invitation, never accepted, says "stop inviting me": off the standing list, the rest stays.
        var coraInvited = (await subscribers.FindByEmailAsync("cora@example.org", Cancel, Next))!;
        Assert.True(await subscribers.UnsubscribeAsync(coraInvited.Id, Now.AddDays(2), Cancel));
        Assert.Equal(["anna@example.org"], await QueryAsync<string>(store, "SELECT email FROM subscribers WHERE standing_list_at IS NOT NULL ORDER BY email"));
        Assert.Equal(SubscriberStatus.Confirmed, (await subscribers.FindAsync(cora, Cancel))!.Status);
        Assert.All((await subscribers.ConsentsAsync(cora, Cancel)).Where(c => c.ConsentTextVersion.StartsWith("standing-list/", StringComparison.Ordinal)),
            c => Assert.Equal(Now.AddDays(2), c.WithdrawnAt));

        // Leaving everything also leaves the standing list: the next campaign invites nobody.
        await subscribers.UnsubscribeEverywhereAsync(anna, Now.AddDays(3), Cancel);
        Assert.Empty(await subscribers.InviteStandingListAsync("another-2026", ["facebook"], Now.AddDays(4), Cancel));
    }

    private static async Task<long> SignUpAndConfirmAsync(SubscriberStore subscribers, string email, bool standingList)
    {
        var signup = new Signup(email, "de", ["facebook"], ConsentSource.Form, "2024-05/de/abc", "192.0.2.1", "Browser")
        {
            StandingList = standingList,
            StandingListTextVersion = standingList ? "standing-list/de/0123abcd" : null,
        };
        var id = (await subscribers.SignUpAsync(signup, Now, TimeSpan.FromMinutes(10), Cancel)).SubscriberId;
        Assert.Equal(ConfirmOutcome.Confirmed, await subscribers.ConfirmAsync(id, Now.AddMinutes(1), "192.0.2.1", Cancel));
        return id;
    }

    private static async Task<List<T>> QueryAsync<T>(TestStore store, string sql)
    {
        await using var connection = await store.Database.OpenAsync(Cancel);
        return (await connection.QueryAsync<T>(sql)).ToList();
    }
}
