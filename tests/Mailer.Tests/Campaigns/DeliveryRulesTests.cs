using Mailer.Campaigns;
using Mailer.Storage;

namespace Mailer.Tests.Campaigns;

public class DeliveryRulesTests
{
    private static readonly string[] Platforms = ["facebook", "instagram"];
    private static readonly DateTimeOffset Due = new(2024, 5, 19, 7, 0, 0, TimeSpan.Zero);
    private static readonly ScheduledMailing Week = new("meta-ai-objection", "reminder-week", Due, Due.AddDays(7));
    private static readonly ScheduledMailing Announcement = new("meta-ai-objection", "announcement", Due.AddDays(-10), null,
        MailingWhen.Launch, MailingAudience.Confirmed, LateJoiners: true);

    private static SendingState Subscriber(string status = "confirmed", string platforms = "facebook,instagram", string done = "", DateTimeOffset? lastSent = null) =>
        new() { Email = "a@example.org", Locale = "de", Status = status, Platforms = platforms, DonePlatforms = done, LastOtherSentAt = lastSent?.ToUnixTimeMilliseconds() };

    [Fact]
    public void AReminder_ListsOnlyThePlatformsNotYetDone()
    {
        var decision = DeliveryRules.Decide(Week, Subscriber(done: "facebook"), Platforms, TimeSpan.FromDays(1), Due.AddMinutes(1));

        Assert.True(decision.Send);
        Assert.Equal(["instagram"], decision.Platforms);
    }

    [Fact]
    public void AReminder_ToSomeoneDoneWithEveryPlatform_IsSkipped()
    {
        var decision = DeliveryRules.Decide(Week, Subscriber(platforms: "facebook", done: "facebook"), Platforms, TimeSpan.FromDays(1), Due);

        Assert.False(decision.Send);
        Assert.Contains("done", decision.SkipReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unsubscribed")]
    [InlineData("pending")]
    public void NothingGoesToSomeoneNotConfirmed(string status)
    {
        Assert.False(DeliveryRules.Decide(Week, Subscriber(status), Platforms, TimeSpan.Zero, Due).Send);
        Assert.False(DeliveryRules.Decide(Announcement, Subscriber(status), Platforms, TimeSpan.Zero, Due).Send);
    }

    [Fact]
    public void AnErasedSubscriber_IsSkipped() =>
        Assert.False(DeliveryRules.Decide(Week, null, Platforms, TimeSpan.Zero, Due).Send);

    [Fact]
    public void AReminderSoonAfterThePreviousMail_IsSkippedForTheGap()
    {
        var tooSoon = DeliveryRules.Decide(Week, Subscriber(lastSent: Due.AddHours(-23)), Platforms, TimeSpan.FromDays(1), Due);
        var enoughLater = DeliveryRules.Decide(Week, Subscriber(lastSent: Due.AddHours(-25)), Platforms, TimeSpan.FromDays(1), Due);

        Assert.False(tooSoon.Send);
        Assert.Contains("MinGapBetweenMails", tooSoon.SkipReason, StringComparison.Ordinal);
        Assert.True(enoughLater.Send);
    }

    [Fact]
    public void AReminderWhoseMomentHasPassed_IsSkipped() =>
        Assert.False(DeliveryRules.Decide(Week, Subscriber(), Platforms, TimeSpan.Zero, Week.Ends!.Value).Send);

    [Fact]
    public void TheAnnouncement_GoesOutWithEveryChosenPlatform_EvenAfterTheDeadlineAndRightAfterAnotherMail()
    {
        var decision = DeliveryRules.Decide(Announcement, Subscriber(platforms: "instagram", done: "instagram", lastSent: Due),
            Platforms, TimeSpan.FromDays(1), Due.AddDays(30));

        Assert.True(decision.Send);
        Assert.Equal(["instagram"], decision.Platforms);
    }

    [Fact]
    public void Backoff_DoublesFromTheBaseDelay_AndStopsAtAnHour()
    {
        var baseDelay = TimeSpan.FromSeconds(30);

        Assert.Equal(TimeSpan.FromSeconds(30), DeliveryRules.Backoff(baseDelay, 1));
        Assert.Equal(TimeSpan.FromSeconds(60), DeliveryRules.Backoff(baseDelay, 2));
        Assert.Equal(TimeSpan.FromSeconds(120), DeliveryRules.Backoff(baseDelay, 3));
        Assert.Equal(TimeSpan.FromHours(1), DeliveryRules.Backoff(baseDelay, 30));
    }

    [Fact]
    public void AMail_WhileAnotherCampaignsMailWentOutWithinTheGap_WaitsForTheGap()
    {
        var state = new SendingState { Email = "a@example.org", Locale = "de", Status = "confirmed", Platforms = "facebook", LastElsewhereSentAt = Due.AddHours(-2).ToUnixTimeMilliseconds() };

        var decision = DeliveryRules.Decide(Week, state, Platforms, TimeSpan.FromDays(1), Due);

        Assert.False(decision.Send);
        Assert.Equal(Due.AddHours(22), decision.WaitUntil);
    }

    [Fact]
    public void AMail_WhileAnotherCampaignsMailToTheAddressIsInFlight_LooksAgainInAMinute()
    {
        var state = new SendingState { Email = "a@example.org", Locale = "de", Status = "confirmed", Platforms = "facebook", ElsewhereInFlight = 1 };

        var decision = DeliveryRules.Decide(Week, state, Platforms, TimeSpan.FromDays(1), Due);

        Assert.False(decision.Send);
        Assert.Equal(Due + DeliveryRules.InFlightRecheck, decision.WaitUntil);
        Assert.Equal(DeliveryDecision.InFlightReason, decision.SkipReason);
    }

    [Fact]
    public void AMail_WhoseEndComesBeforeTheRecheck_GoesOutAlthoughAnotherIsInFlight()
    {
        var state = new SendingState { Email = "a@example.org", Locale = "de", Status = "confirmed", Platforms = "facebook", ElsewhereInFlight = 1 };
        var closing = Week with { Ends = Due.AddSeconds(30) };

        Assert.True(DeliveryRules.Decide(closing, state, Platforms, TimeSpan.FromDays(1), Due).Send);
        Assert.True(DeliveryRules.Decide(Week, state, Platforms, TimeSpan.Zero, Due).Send);
    }
}
