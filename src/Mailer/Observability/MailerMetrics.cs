using System.Diagnostics.Metrics;

namespace Mailer.Observability;

/// <summary>
/// The meter <c>Mailer</c>: what the campaign does, counted where it happens. Exported through OpenTelemetry (the
/// Prometheus scrape at <c>/metrics</c>, OTLP when <c>Otlp:Endpoint</c> is set). Each process counts its own: with
/// several instances, sum them in the monitoring system. No label carries personal data: outcomes and mailing names only.
/// </summary>
public sealed class MailerMetrics
{
    public const string MeterName = "Mailer";

    // SMTP answers usually take milliseconds; a slow relay or a greylisting one takes seconds.
    private static readonly double[] AnswerBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter<long> _signups;
    private readonly Counter<long> _confirmations;
    private readonly Counter<long> _messages;
    private readonly Histogram<double> _smtpAnswer;

    public MailerMetrics(IMeterFactory meters, SendRate rate, LedgerWaiting waiting)
    {
        var meter = meters.Create(MeterName);
        Rate = rate;
        _signups = meter.CreateCounter<long>("mailer.signups", "{signup}",
            "Signups answered, by outcome: created, still_pending, resubscribed, already_confirmed, rejected, honeypot, rate_limited.");
        _confirmations = meter.CreateCounter<long>("mailer.confirmations", "{confirmation}", "Addresses confirmed with the button of the confirmation mail.");
        _messages = meter.CreateCounter<long>("mailer.messages", "{message}",
            "Campaign messages finished by campaign, mailing and outcome: sent, failed, skipped, requeued (back to the queue for a later try).");
        _smtpAnswer = meter.CreateHistogram("mailer.smtp.answer.duration", "s",
            "Time from handing a message to the SMTP server to its answer, by outcome: accepted, refused.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AnswerBuckets });
        meter.CreateObservableGauge("mailer.ledger.waiting", waiting.Measure, "{row}",
            "Ledger rows not finished yet, by mailing and state (queued, sending); read from the store, at most a few seconds old.");
        meter.CreateObservableGauge("mailer.send.rate", rate.Measure, "{message}/s",
            "Messages this process sent per second over the last minute, by campaign and mailing.");
    }

    /// <summary>The messages per second of the last minute, also shown on the dashboard's campaign page.</summary>
    public SendRate Rate { get; }

    public void Signup(string outcome) => _signups.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>The label of a stored signup's outcome: <c>created</c>, <c>still_pending</c>, <c>resubscribed</c>, <c>already_confirmed</c>.</summary>
    public static string OutcomeOf(Subscribers.SignupOutcome outcome) => outcome switch
    {
        Subscribers.SignupOutcome.Created => "created",
        Subscribers.SignupOutcome.StillPending => "still_pending",
        Subscribers.SignupOutcome.Resubscribed => "resubscribed",
        _ => "already_confirmed",
    };

    public void Confirmed() => _confirmations.Add(1);

    /// <summary>Counts <paramref name="count"/> ledger rows of <paramref name="mailing"/> of <paramref name="campaign"/> that ended as <paramref name="status"/> (<c>queued</c> counts as requeued).</summary>
    public void Messages(string campaign, string mailing, string status, long count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        var outcome = status == "queued" ? "requeued" : status;
        _messages.Add(count, new KeyValuePair<string, object?>("campaign", campaign), new KeyValuePair<string, object?>("mailing", mailing),
            new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "sent")
        {
            Rate.Add(campaign, mailing, count);
        }
    }

    /// <summary>How long the SMTP server took to answer a message.</summary>
    public void SmtpAnswer(TimeSpan took, bool accepted) =>
        _smtpAnswer.Record(took.TotalSeconds, new KeyValuePair<string, object?>("outcome", accepted ? "accepted" : "refused"));
}
