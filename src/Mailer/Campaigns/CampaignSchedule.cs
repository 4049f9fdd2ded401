using System.Globalization;

namespace Mailer.Campaigns;

/// <summary>
/// A mailing's moment: due at <see cref="Due"/>, and no longer worth sending from <see cref="Ends"/> on; with what its
/// settings say about who gets it.
/// </summary>
public sealed record ScheduledMailing(string Campaign, string Mailing, DateTimeOffset Due, DateTimeOffset? Ends,
    MailingWhen When = MailingWhen.BeforeDeadline, MailingAudience Audience = MailingAudience.NotDone, bool LateJoiners = false)
{
    /// <summary>The mailing across campaigns, <c>campaign/mailing</c>: the circuit breaker's key.</summary>
    public string Key => $"{Campaign}/{Mailing}";

    /// <summary>Not the launch mailing: the campaign's gap between two mails holds for it.</summary>
    public bool IsReminder => When != MailingWhen.Launch;

    public bool IsOpenAt(DateTimeOffset now) => now >= Due && (Ends is null || now < Ends);

    public bool HasPassedAt(DateTimeOffset now) => Ends is { } ends && now >= ends;

    /// <summary>
    /// Rows go to those confirmed before this moment: the due time, or (with late joiners) everyone confirmed. It stays the
    /// same from one dispatch to the next, so a dispatch only looks at who changed since the last one.
    /// </summary>
    public DateTimeOffset ConfirmedBefore => LateJoiners ? DateTimeOffset.MaxValue : Due;
}

/// <summary>
/// When each mailing of a campaign is due, computed in the campaign's time zone. A launch mailing is due at the launch
/// and stays open (late joiners get it, also after the deadline). A mailing before the deadline is open from its due
/// time until the next of them is due or the deadline passes, whichever comes first; a one-off (<c>At</c>) until the
/// deadline, or for good when it is after it.
/// </summary>
public static class CampaignSchedule
{
    public static IReadOnlyList<ScheduledMailing> For(CampaignOptions campaign, DateTimeOffset launch)
    {
        var deadline = campaign.DeadlineUtc;
        var mailings = campaign.Mailings
            .Select(m => (Name: m.Key.ToLowerInvariant(), Options: m.Value, When: m.Value.WhenFor(m.Key)))
            .ToList();
        var beforeDeadline = mailings
            .Where(m => m.When == MailingWhen.BeforeDeadline)
            .Select(m => (m.Name, Due: DueOf(campaign, m.Options)))
            .OrderBy(m => m.Due)
            .ToList();

        var schedule = new List<ScheduledMailing>();
        foreach (var (name, mailing, when) in mailings)
        {
            DateTimeOffset due;
            DateTimeOffset? ends;
            switch (when)
            {
                case MailingWhen.Launch:
                    (due, ends) = (launch, null);
                    break;
                case MailingWhen.At:
                    due = ZonedTime.TryParse(mailing.At, campaign.Zone, $"{campaign.Key}:Mailings:{name}:At", out var at, out var problem)
                        ? at : throw new InvalidOperationException(problem);
                    ends = due < deadline ? deadline : null;
                    break;
                default:
                    var index = beforeDeadline.FindIndex(m => m.Name == name);
                    due = beforeDeadline[index].Due;
                    var next = index + 1 < beforeDeadline.Count ? beforeDeadline[index + 1].Due : deadline;
                    ends = next < deadline ? next : deadline;
                    break;
            }

            schedule.Add(new ScheduledMailing(campaign.Name, name, due, ends, when, mailing.AudienceFor(name), mailing.LateJoinersFor(name)));
        }

        return schedule.OrderBy(m => m.Due).ThenBy(m => m.Mailing, StringComparer.Ordinal).ToList();
    }

    private static DateTimeOffset DueOf(CampaignOptions campaign, MailingOptions mailing)
    {
        if (string.IsNullOrWhiteSpace(mailing.AtLocalTime))
        {
            return campaign.DeadlineUtc - mailing.Before;
        }

        var day = DateOnly.FromDateTime(campaign.DeadlineLocal - mailing.Before);
        var at = TimeOnly.Parse(mailing.AtLocalTime, CultureInfo.InvariantCulture);
        return ZonedTime.ToInstant(day.ToDateTime(at), campaign.Zone);
    }
}
