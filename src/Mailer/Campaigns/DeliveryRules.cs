using Mailer.Storage;

namespace Mailer.Campaigns;

/// <summary>What to do with one claimed row at the moment of sending.</summary>
public readonly record struct DeliveryDecision(bool Send, IReadOnlyList<string> Platforms, string? SkipReason, DateTimeOffset? WaitUntil = null)
{
    public static DeliveryDecision SendTo(IReadOnlyList<string> platforms) => new(true, platforms, null);

    public static DeliveryDecision Skip(string reason) => new(false, [], reason);

    /// <summary>Not now: back to the queue until <paramref name="until"/>, for <paramref name="reason"/> (another campaign's mail).</summary>
    public static DeliveryDecision Wait(DateTimeOffset until, string reason = WaitingReason) => new(false, [], reason, until);

    public const string WaitingReason = "waiting: another campaign's mail went to the address less than MinGapBetweenMails ago";

    public const string InFlightReason = "waiting: another campaign's mail to the address is being sent";
}

/// <summary>
/// The campaign's rules, checked for each subscriber right before their message is composed: an unsubscribe or a
/// "done" mark that arrived after the row was queued still counts.
/// </summary>
public static class DeliveryRules
{
    /// <summary>How long a row waits for another campaign's mail in flight to the same address before it looks again.</summary>
    public static readonly TimeSpan InFlightRecheck = TimeSpan.FromMinutes(1);

    public static DeliveryDecision Decide(ScheduledMailing mailing, SendingState? subscriber, IReadOnlyCollection<string> campaignPlatforms,
        TimeSpan minGap, DateTimeOffset now)
    {
        if (subscriber is null)
        {
            return DeliveryDecision.Skip("skipped: the subscriber was erased");
        }

        if (subscriber.Status != "confirmed")
        {
            return DeliveryDecision.Skip($"skipped: the subscriber is {subscriber.Status}");
        }

        if (subscriber.SuppressedAt is not null)
        {
            return DeliveryDecision.Skip($"skipped: mail to the address is stopped ({subscriber.SuppressedReason})");
        }

        if (mailing.HasPassedAt(now))
        {
            return DeliveryDecision.Skip("skipped: its moment passed before it could be sent");
        }

        var remaining = Remaining(subscriber, campaignPlatforms);
        if (mailing.Audience == MailingAudience.NotDone && remaining.Count == 0)
        {
            return DeliveryDecision.Skip("skipped: every chosen platform is marked done");
        }

        if (mailing.IsReminder && subscriber.LastOtherSentAt is { } last && now - DateTimeOffset.FromUnixTimeMilliseconds(last) < minGap)
        {
            return DeliveryDecision.Skip("skipped: the previous mail went out less than MinGapBetweenMails ago");
        }

        if (subscriber.LastElsewhereSentAt is { } elsewhere && DateTimeOffset.FromUnixTimeMilliseconds(elsewhere) + minGap is var until && until > now
            && (mailing.Ends is not { } ends || until < ends))
        {
            // Two campaigns due together: the later mail waits for the gap, unless waiting would pass its end.
            return DeliveryDecision.Wait(until);
        }

        if (subscriber.ElsewhereInFlight > 0 && minGap > TimeSpan.Zero && now + InFlightRecheck is var recheck
            && (mailing.Ends is not { } end || recheck < end))
        {
            // Another campaign's row to the address is in a send job's hands: once it is sent, the gap above applies.
            return DeliveryDecision.Wait(recheck, DeliveryDecision.InFlightReason);
        }

        if (mailing.Audience == MailingAudience.Confirmed)
        {
            // The guide goes out whole, even to someone who already objected somewhere: it is what they signed up for.
            var chosen = Split(subscriber.Platforms);
            return DeliveryDecision.SendTo(campaignPlatforms.Where(chosen.Contains).ToList());
        }

        return DeliveryDecision.SendTo(remaining);
    }

    /// <summary>The chosen platforms not yet marked done, in the campaign's order.</summary>
    public static IReadOnlyList<string> Remaining(SendingState subscriber, IReadOnlyCollection<string> campaignPlatforms)
    {
        var chosen = Split(subscriber.Platforms);
        var done = Split(subscriber.DonePlatforms);
        return campaignPlatforms.Where(p => chosen.Contains(p) && !done.Contains(p)).ToList();
    }

    /// <summary>Wait before attempt number <paramref name="attempts"/> + 1: the base delay, doubling, at most an hour.</summary>
    public static TimeSpan Backoff(TimeSpan baseDelay, int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 20));
        var delay = TimeSpan.FromTicks((long)Math.Min(baseDelay.Ticks * factor, TimeSpan.FromHours(1).Ticks));
        return delay;
    }

    private static HashSet<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
}
