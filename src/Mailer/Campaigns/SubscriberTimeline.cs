using System.Globalization;
using Mailer.Bounces;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// One subscriber's campaign: who they are, since when and why no mail goes to them (a bounce or complaint; null while
/// mail goes), per mailing what they received or will receive, or why not, and every report that came back.
/// </summary>
public sealed record TimelineView(SubscriberSnapshot Subscriber, string Summary, string? Stopped,
    IReadOnlyList<(string Mailing, string Explanation)> Mailings, IReadOnlyList<string> Reports);

/// <summary>
/// The timeline of one address, for the <c>timeline</c> command and the dashboard's campaign page: each mailing's due
/// time, and for a subscriber what they received (time and server reply) and what they will receive, or why not.
/// </summary>
public sealed class SubscriberTimeline(CampaignClock clock, DeliveryLedger ledger, BounceStore bounces)
{
    public Task<IReadOnlyList<ScheduledMailing>> MailingsAsync(CampaignOptions campaign, CancellationToken cancellationToken) =>
        clock.MailingsAsync(campaign, cancellationToken);

    /// <summary>The timeline of the campaign's subscriber with this normalized address at <paramref name="now"/>; null when there is none.</summary>
    public async Task<TimelineView?> ForAsync(CampaignOptions campaign, string normalizedEmail, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string Local(DateTimeOffset instant) => SubscriberTimeline.Local(campaign, instant);
        var subscriber = await ledger.SubscriberAsync(campaign.Name, normalizedEmail, cancellationToken);
        if (subscriber is null)
        {
            return null;
        }

        var summary = $"subscriber #{subscriber.Id}: {subscriber.Status}, platforms {subscriber.Platforms}"
            + (subscriber.DonePlatforms.Length > 0 ? $", done {subscriber.DonePlatforms}" : "")
            + (subscriber.ConfirmedAt is { } c ? $", confirmed {Local(DateTimeOffset.FromUnixTimeMilliseconds(c))}" : "");
        var suppression = await bounces.SuppressionAsync(subscriber.Id, cancellationToken);
        var stopped = suppression is { } s ? $"no mail since {Local(s.At)}: {s.Reason}" : null;
        var history = (await ledger.HistoryAsync(subscriber.Id, cancellationToken)).ToDictionary(h => h.Mailing);
        var mailings = await clock.MailingsAsync(campaign, cancellationToken);
        var reports = (await bounces.EventsAsync(subscriber.Id, cancellationToken)).Select(report =>
        {
            var of = report.Mailing is null ? "" : $" of {report.Mailing}";
            var status = report.Status is null ? "" : $" {report.Status}";
            var diagnostic = string.IsNullOrEmpty(report.Diagnostic) ? "" : $": {report.Diagnostic}";
            return $"{Local(DateTimeOffset.FromUnixTimeMilliseconds(report.ReceivedAt))} {report.Kind}{status}{of} ({report.Source}){diagnostic}";
        });
        return new TimelineView(subscriber, summary, stopped,
            [.. mailings.Select(m => (m.Mailing, history.ContainsKey(m.Mailing) || suppression is null
                ? Explain(campaign, m, subscriber, history.GetValueOrDefault(m.Mailing), now)
                : "will not receive it: mail to the address is stopped"))],
            [.. reports]);
    }

    private static string Explain(CampaignOptions campaign, ScheduledMailing mailing, SubscriberSnapshot subscriber, DeliveryRecord? record, DateTimeOffset now)
    {
        string Local(DateTimeOffset instant) => SubscriberTimeline.Local(campaign, instant);
        if (record is not null)
        {
            var at = record.SentAt ?? record.UpdatedAt;
            var reply = string.IsNullOrEmpty(record.LastReply) ? "" : $": {record.LastReply}";
            return $"{record.Status} {Local(DateTimeOffset.FromUnixTimeMilliseconds(at))}, {record.Attempts} attempt(s){reply}";
        }

        if (subscriber.Status != "confirmed")
        {
            return $"will not receive it: {subscriber.Status}";
        }

        var confirmed = DateTimeOffset.FromUnixTimeMilliseconds(subscriber.ConfirmedAt ?? 0);
        if (!mailing.LateJoiners && confirmed >= mailing.Due)
        {
            return "will not receive it: confirmed after it was due";
        }

        if (mailing.HasPassedAt(now))
        {
            return "will not receive it: its moment has passed";
        }

        var state = new SendingState { Platforms = subscriber.Platforms, DonePlatforms = subscriber.DonePlatforms, Status = subscriber.Status };
        if (mailing.Audience == MailingAudience.NotDone && DeliveryRules.Remaining(state, campaign.Platforms.Keys).Count == 0)
        {
            return "will not receive it: every chosen platform is marked done";
        }

        return now >= mailing.Due ? "due now: goes out with the next dispatch" : $"will receive it {Local(mailing.Due)}";
    }

    /// <summary>An instant as the campaign's wall clock shows it, with the zone's name.</summary>
    public static string Local(CampaignOptions campaign, DateTimeOffset instant) =>
        ZonedTime.ToLocal(instant, campaign.Zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + campaign.TimeZone;

    public static string Utc(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
