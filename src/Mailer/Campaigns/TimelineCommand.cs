using System.Globalization;
using Mailer.Bounces;
using Mailer.Cli;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// <c>timeline [--email ADDRESS] [--now DATETIME]</c>: each mailing's due time, local and UTC; for one subscriber also
/// what they received (time and server reply) and what they will receive, or why not.
/// </summary>
public sealed class TimelineCommand(CampaignClock clock, DeliveryLedger ledger, BounceStore bounces, IOptions<CampaignOptions> options, TimeProvider time)
    : IOperatorCommand
{
    public string Verb => "timeline";

    public string Usage => "timeline [--email ADDRESS] [--now DATETIME]   (DATETIME wall-clock time in Campaign:TimeZone, e.g. 2024-05-20T10:00, or with an offset, e.g. 2024-05-20T08:00Z)";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var email = arguments.Option("email");
        var given = arguments.Instant("now", options.Value.Zone);
        arguments.EnsureNoOthers(0);

        var campaign = options.Value;
        var now = given ?? time.GetUtcNow();
        var mailings = await clock.MailingsAsync(cancellationToken);
        await output.WriteLineAsync($"deadline         {Local(campaign.DeadlineUtc)}  ({Utc(campaign.DeadlineUtc)})");
        foreach (var mailing in mailings)
        {
            var ends = mailing.Ends is { } e ? $", until {Local(e)}" : "";
            await output.WriteLineAsync($"{mailing.Mailing,-16} {Local(mailing.Due)}  ({Utc(mailing.Due)}){ends}");
        }

        if (email is null)
        {
            return 0;
        }

        if (EmailAddress.Normalize(email, out var normalized) != EmailProblem.None)
        {
            throw new UsageException($"--email '{email}' is not a mail address.");
        }

        var subscriber = await ledger.SubscriberAsync(normalized, cancellationToken);
        if (subscriber is null)
        {
            await output.WriteLineAsync("No subscriber with that address.");
            return 1;
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync($"subscriber #{subscriber.Id}: {subscriber.Status}, platforms {subscriber.Platforms}"
            + (subscriber.DonePlatforms.Length > 0 ? $", done {subscriber.DonePlatforms}" : "")
            + (subscriber.ConfirmedAt is { } c ? $", confirmed {Local(DateTimeOffset.FromUnixTimeMilliseconds(c))}" : ""));

        var suppression = await bounces.SuppressionAsync(subscriber.Id, cancellationToken);
        if (suppression is { } stopped)
        {
            await output.WriteLineAsync($"  no mail since {Local(stopped.At)}: {stopped.Reason}");
        }

        var history = (await ledger.HistoryAsync(subscriber.Id, cancellationToken)).ToDictionary(h => h.Mailing);
        foreach (var mailing in mailings)
        {
            var explained = history.ContainsKey(mailing.Mailing) || suppression is null
                ? Explain(mailing, subscriber, history.GetValueOrDefault(mailing.Mailing), now)
                : "will not receive it: mail to the address is stopped";
            await output.WriteLineAsync($"  {mailing.Mailing,-16} {explained}");
        }

        foreach (var report in await bounces.EventsAsync(subscriber.Id, cancellationToken))
        {
            var of = report.Mailing is null ? "" : $" of {report.Mailing}";
            var status = report.Status is null ? "" : $" {report.Status}";
            var diagnostic = string.IsNullOrEmpty(report.Diagnostic) ? "" : $": {report.Diagnostic}";
            await output.WriteLineAsync($"  {"came back",-16} {Local(DateTimeOffset.FromUnixTimeMilliseconds(report.ReceivedAt))} {report.Kind}{status}{of} ({report.Source}){diagnostic}");
        }

        return 0;
    }

    private string Explain(ScheduledMailing mailing, SubscriberSnapshot subscriber, DeliveryRecord? record, DateTimeOffset now)
    {
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
        if (mailing.IsReminder && confirmed >= mailing.Due)
        {
            return "will not receive it: confirmed after it was due";
        }

        if (mailing.HasPassedAt(now))
        {
            return "will not receive it: its moment has passed";
        }

        var state = new SendingState { Platforms = subscriber.Platforms, DonePlatforms = subscriber.DonePlatforms, Status = subscriber.Status };
        if (mailing.IsReminder && DeliveryRules.Remaining(state, options.Value.Platforms.Keys).Count == 0)
        {
            return "will not receive it: every chosen platform is marked done";
        }

        return now >= mailing.Due ? "due now: goes out with the next dispatch" : $"will receive it {Local(mailing.Due)}";
    }

    private string Local(DateTimeOffset instant) =>
        ZonedTime.ToLocal(instant, options.Value.Zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + options.Value.TimeZone;

    private static string Utc(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
