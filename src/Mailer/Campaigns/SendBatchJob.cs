using Hangfire;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// The sending pipeline. The dispatcher has written one ledger row per subscriber and mailing and keeps about
/// <c>Smtp:Connections</c> of these jobs waiting in the <c>send</c> queue, whose server runs that many workers.
/// Each job opens one SMTP connection and, batch after batch, claims <c>Campaign:BatchSize</c> rows under a lease.
/// It works through a batch in chunks of <see cref="ChunkSize"/> rows: it reads the chunk's subscribers as they are
/// now, in one query (an unsubscribe or a done mark counts until that moment); for each row it applies the
/// campaign's rules, composes the message (the mail's variant is rendered once and filled in with this subscriber's
/// address and links) and sends it (the transport holds to <c>Smtp:MaxMessagesPerSecond</c>); and it records the
/// chunk's outcomes in one transaction right after the last answer. A chunk ends early once its subscribers were
/// read <see cref="ChunkMaxAge"/> ago, so a slow server or a set pace stretches neither window below.
/// A transient failure puts the row back with a growing delay until <c>Campaign:MaxAttempts</c>; a permanent one is
/// recorded with the server's reply.
/// Everything is safe to repeat: a row is only touched while its lease is this job's, and a job that dies leaves its
/// rows leased until the lease runs out, when the next claim takes them back. Two windows are the price of chunks:
/// a message the server accepted before the process died, but not yet recorded, goes out again — at most one chunk
/// (50 messages, about a second of sending) per open connection; and an unsubscribe or done mark that arrives while
/// a chunk is under way counts from the next chunk on — at most 50 messages, at most a second later.
/// </summary>
public sealed class SendBatchJob(
    DeliveryLedger ledger,
    CampaignClock clock,
    MailComposer composer,
    IMailTransport transport,
    SendProgress progress,
    IBackgroundJobClient jobs,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<SendBatchJob> logger)
{
    /// <summary>A job hands over to a fresh one after this long, so no job outlives its storage's patience.</summary>
    internal static readonly TimeSpan MaxRunTime = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Rows whose subscribers are read in one query right before their messages go out, and whose outcomes are
    /// recorded in one transaction right after: the most messages that can be accepted but not yet recorded.
    /// </summary>
    internal const int ChunkSize = 50;

    /// <summary>A chunk ends early once its subscribers' state is this old, so the state a message is sent on is fresh.</summary>
    internal static readonly TimeSpan ChunkMaxAge = TimeSpan.FromSeconds(1);

    private const int ConsecutiveTransientLimit = 3;

    [Queue("send")]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string mailing, CancellationToken cancellationToken)
    {
        var owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        var schedule = await clock.MailingAsync(mailing, cancellationToken);
        var campaign = options.Value;
        var started = time.GetUtcNow();

        await using var connection = await transport.OpenAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var leaseUntil = now + campaign.LeaseDuration;
            var rows = await ledger.ClaimAsync(mailing, owner, campaign.BatchSize, now, leaseUntil, cancellationToken);
            if (rows.Count == 0)
            {
                return;
            }

            CampaignsLog.BatchClaimed(logger, mailing, rows.Count);
            if (!await SendAsync(schedule, rows, owner, leaseUntil, connection, cancellationToken))
            {
                return;
            }

            if (time.GetUtcNow() - started > MaxRunTime)
            {
                jobs.Enqueue<SendBatchJob>(job => job.RunAsync(mailing, CancellationToken.None));
                return;
            }
        }
    }

    /// <summary>Sends one claimed batch, chunk by chunk; false when the job should stop (server unreachable, shutdown, lease lost).</summary>
    private async Task<bool> SendAsync(ScheduledMailing mailing, IReadOnlyList<ClaimedDelivery> rows, string owner,
        DateTimeOffset leaseUntil, IMailConnection connection, CancellationToken cancellationToken)
    {
        var campaign = options.Value;
        var leaseRenewedAt = time.GetUtcNow();
        var consecutiveTransient = 0;
        bool MustStop() => cancellationToken.IsCancellationRequested || consecutiveTransient >= ConsecutiveTransientLimit;

        await using var db = await ledger.OpenAsync(CancellationToken.None);
        var next = 0;
        while (next < rows.Count)
        {
            var now = time.GetUtcNow();
            if (MustStop())
            {
                // Shutting down, or the server is not taking mail: the rest goes back to the queue untried.
                var notBefore = cancellationToken.IsCancellationRequested ? now : now + campaign.RetryBaseDelay;
                await ledger.RecordAsync(db, owner, [.. rows.Skip(next).Select(r => DeliveryOutcome.Requeued(r.Id, attempted: false, now, notBefore, reply: null))]);
                CampaignsLog.BatchStopped(logger, mailing.Mailing, rows.Count - next, cancellationToken.IsCancellationRequested);
                return false;
            }

            if (now >= leaseUntil)
            {
                // A message hung longer than the lease: another job may have taken the rest of the batch back by now.
                // Sending them too would send them twice; they are that job's now (or the next claim's).
                CampaignsLog.LeaseLost(logger, mailing.Mailing, rows.Count - next);
                return false;
            }

            if (now - leaseRenewedAt > campaign.LeaseDuration / 3)
            {
                // A job that stalled past its lease may have lost rows to another job: it must not send them again.
                if (await ledger.RenewLeaseAsync(owner, now + campaign.LeaseDuration, CancellationToken.None) < rows.Count - next)
                {
                    CampaignsLog.LeaseLost(logger, mailing.Mailing, rows.Count - next);
                    return true;
                }

                leaseUntil = now + campaign.LeaseDuration;
                leaseRenewedAt = now;
            }

            // A chunk: the subscribers' state read at once, their messages sent, the outcomes recorded at once.
            var chunk = rows.Skip(next).Take(ChunkSize).ToList();
            var states = await ledger.SendingStatesAsync(db, mailing.Mailing, chunk);
            var statesReadAt = now;
            var outcomes = new List<DeliveryOutcome>(chunk.Count);
            try
            {
                foreach (var row in chunk)
                {
                    now = time.GetUtcNow();
                    if (now - statesReadAt > ChunkMaxAge || now >= leaseUntil || MustStop())
                    {
                        break;
                    }

                    var (outcome, result) = await SendOneAsync(mailing, row, states.GetValueOrDefault(row.SubscriberId), connection, now);
                    outcomes.Add(outcome);
                    next++;
                    consecutiveTransient = result switch
                    {
                        SendOutcome.Transient => consecutiveTransient + 1,
                        null => consecutiveTransient,
                        _ => 0,
                    };
                }
            }
            finally
            {
                // Also when something unexpected broke the chunk: what the server accepted must reach the ledger.
                await ledger.RecordAsync(db, owner, outcomes);
                progress.Add(mailing.Mailing, outcomes);
            }
        }

        return true;
    }

    /// <summary>One row: the rules, then the message; the outcome to record and the server's verdict (null when skipped).</summary>
    private async Task<(DeliveryOutcome Outcome, SendOutcome? Result)> SendOneAsync(ScheduledMailing mailing, ClaimedDelivery row,
        SendingState? subscriber, IMailConnection connection, DateTimeOffset now)
    {
        var campaign = options.Value;
        var decision = DeliveryRules.Decide(mailing, subscriber, campaign.Platforms.Keys, campaign.MinGapBetweenMails, now);
        if (!decision.Send)
        {
            return (DeliveryOutcome.Finished(row.Id, "skipped", attempted: false, now, decision.SkipReason!), null);
        }

        var recipient = new Recipient(row.SubscriberId, subscriber!.Email, subscriber.Locale, decision.Platforms);
        var message = composer.Compose(mailing.Mailing, recipient, now);

        // The message in flight finishes even when the host is stopping: its outcome must reach the ledger.
        var result = await connection.SendAsync(message, CancellationToken.None);
        now = time.GetUtcNow();
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                return (DeliveryOutcome.Sent(row.Id, now, message.MessageId, result.Reply), result.Outcome);
            case SendOutcome.Permanent:
                CampaignsLog.Rejected(logger, row.Id, mailing.Mailing, result.Reply);
                return (DeliveryOutcome.Finished(row.Id, "failed", attempted: true, now, result.Reply), result.Outcome);
            default:
                if (row.Attempts + 1 >= campaign.MaxAttempts)
                {
                    CampaignsLog.GaveUp(logger, row.Id, mailing.Mailing, row.Attempts + 1, result.Reply);
                    return (DeliveryOutcome.Finished(row.Id, "failed", attempted: true, now, result.Reply), result.Outcome);
                }

                var retryAt = now + DeliveryRules.Backoff(campaign.RetryBaseDelay, row.Attempts + 1);
                return (DeliveryOutcome.Requeued(row.Id, attempted: true, now, retryAt, result.Reply), result.Outcome);
        }
    }
}
