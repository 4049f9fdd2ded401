using System.Globalization;
using Mailer.Rendering;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>A mailing's moment: due at <see cref="Due"/>, and no longer worth sending from <see cref="Ends"/> on.</summary>
public sealed record ScheduledMailing(string Mailing, DateTimeOffset Due, DateTimeOffset? Ends)
{
    public bool IsReminder => Mailing != Mailings.Announcement;

    public bool IsOpenAt(DateTimeOffset now) => now >= Due && (Ends is null || now < Ends);

    public bool HasPassedAt(DateTimeOffset now) => Ends is { } ends && now >= ends;
}

/// <summary>
/// When each mailing is due, computed in the campaign's time zone. The announcement is due at the launch and stays
/// open (late confirmers get it, also after the deadline); a reminder is open from its due time until the next
/// reminder is due or the deadline passes, whichever comes first.
/// </summary>
public sealed class CampaignSchedule(IOptions<CampaignOptions> options)
{
    public IReadOnlyList<ScheduledMailing> Build(DateTimeOffset launch)
    {
        var campaign = options.Value;
        var deadline = campaign.DeadlineUtc;
        var reminders = campaign.Mailings
            .Select(m => (Name: m.Key.ToLowerInvariant(), Due: DueOf(m.Value)))
            .OrderBy(m => m.Due)
            .ToList();

        var schedule = new List<ScheduledMailing> { new(Mailings.Announcement, launch, null) };
        for (var i = 0; i < reminders.Count; i++)
        {
            var next = i + 1 < reminders.Count ? reminders[i + 1].Due : deadline;
            var ends = next < deadline ? next : deadline;
            schedule.Add(new ScheduledMailing(reminders[i].Name, reminders[i].Due, ends));
        }

        return schedule;
    }

    /// <summary>The launch as configured (<c>Campaign:LaunchAt</c>), or null when it is the first start.</summary>
    public DateTimeOffset? ConfiguredLaunch => options.Value.LaunchAtUtc;

    private DateTimeOffset DueOf(MailingScheduleOptions mailing)
    {
        var campaign = options.Value;
        if (string.IsNullOrWhiteSpace(mailing.AtLocalTime))
        {
            return campaign.DeadlineUtc - mailing.Before;
        }

        var day = DateOnly.FromDateTime(campaign.DeadlineLocal - mailing.Before);
        var at = TimeOnly.Parse(mailing.AtLocalTime, CultureInfo.InvariantCulture);
        return ZonedTime.ToInstant(day.ToDateTime(at), campaign.Zone);
    }
}
