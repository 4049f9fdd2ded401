using Mailer.Storage;

namespace Mailer.Campaigns;

/// <summary>
/// What this process's send jobs have finished, per mailing: one log line every <see cref="Every"/> while a send
/// runs, with the pace since the last line, so a long send (a million reminders) shows how it goes. Nothing is
/// logged while nothing is sent.
/// </summary>
public sealed class SendProgress(TimeProvider time, ILogger<SendProgress> logger)
{
    internal static readonly TimeSpan Every = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Counts> _mailings = new(StringComparer.Ordinal);

    /// <summary>Counts one recorded outcome of <paramref name="mailing"/>.</summary>
    public void Add(string mailing, DeliveryOutcome outcome)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_mailings.TryGetValue(mailing, out var counts))
            {
                _mailings[mailing] = counts = new Counts { LoggedAt = now };
            }

            switch (outcome.Status)
            {
                case "sent":
                    counts.Sent++;
                    break;
                case "failed":
                    counts.Failed++;
                    break;
                case "skipped":
                    counts.Skipped++;
                    break;
                default:
                    counts.Requeued++;
                    break;
            }

            var elapsed = time.GetElapsedTime(counts.LoggedAt, now);
            if (elapsed < Every)
            {
                return;
            }

            var perSecond = (long)((counts.Sent - counts.SentAtLastLine) / elapsed.TotalSeconds);
            CampaignsLog.Progress(logger, mailing, counts.Sent, counts.Failed, counts.Skipped, counts.Requeued, perSecond);
            counts.LoggedAt = now;
            counts.SentAtLastLine = counts.Sent;
        }
    }

    private sealed class Counts
    {
        public long Sent { get; set; }

        public long Failed { get; set; }

        public long Skipped { get; set; }

        public long Requeued { get; set; }

        public long LoggedAt { get; set; }

        public long SentAtLastLine { get; set; }
    }
}
