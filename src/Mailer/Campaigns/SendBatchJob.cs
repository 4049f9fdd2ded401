using Hangfire;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// The sending pipeline. The dispatcher has written one ledger row per subscriber and mailing and keeps about
/// <c>Smtp:Connections</c> of these jobs waiting in the <c>send</c> queue, whose server runs that many workers.
/// Each job opens one SMTP connection and, batch after batch, claims <c>Campaign:BatchSize</c> rows under a lease,
/// and for each row: reads the subscriber as they are now (an unsubscribe or a done mark counts until the last
/// moment), applies the campaign's rules, renders and builds the message, sends (the transport holds to <c>Smtp:MaxMessagesPerSecond</c>), and
/// records the outcome in the ledger right after the server answered. A transient failure puts the row back with a
/// growing delay until <c>Campaign:MaxAttempts</c>; a permanent one is recorded with the server's reply.
/// Everything is safe to repeat: a row is only touched while its lease is this job's, and a job that dies leaves its
/// rows leased until the lease runs out, when the next claim takes them back. The one message that can go out
/// twice is one the server accepted just before the process died, before its row was recorded: at most one per
/// open connection.
/// </summary>
public sealed class SendBatchJob(
    DeliveryLedger ledger,
    CampaignClock clock,
    MailComposer composer,
    IMailTransport transport,
    IBackgroundJobClient jobs,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    ILogger<SendBatchJob> logger)
{
    /// <summary>A job hands over to a fresh one after this long, so no job outlives its storage's patience.</summary>
    internal static readonly TimeSpan MaxRunTime = TimeSpan.FromMinutes(2);

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

    /// <summary>Sends one claimed batch; false when the job should stop (server unreachable, shutdown, lease lost).</summary>
    private async Task<bool> SendAsync(ScheduledMailing mailing, IReadOnlyList<ClaimedDelivery> rows, string owner,
        DateTimeOffset leaseUntil, IMailConnection connection, CancellationToken cancellationToken)
    {
        var campaign = options.Value;
        var platforms = campaign.Platforms.Keys.ToList();
        var leaseRenewedAt = time.GetUtcNow();
        var consecutiveTransient = 0;

        await using var db = await ledger.OpenAsync(CancellationToken.None);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var now = time.GetUtcNow();
            if (cancellationToken.IsCancellationRequested || consecutiveTransient >= ConsecutiveTransientLimit)
            {
                // Shutting down, or the server is not taking mail: the rest goes back to the queue untried.
                var notBefore = cancellationToken.IsCancellationRequested ? now : now + campaign.RetryBaseDelay;
                foreach (var rest in rows.Skip(i))
                {
                    await ledger.RequeueAsync(db, rest.Id, owner, attempted: false, now, notBefore, reply: null);
                }

                CampaignsLog.BatchStopped(logger, mailing.Mailing, rows.Count - i, cancellationToken.IsCancellationRequested);
                return false;
            }

            if (now >= leaseUntil)
            {
                // A message hung longer than the lease: another job may have taken the rest of the batch back by now.
                // Sending them too would send them twice; they are that job's now (or the next claim's).
                CampaignsLog.LeaseLost(logger, mailing.Mailing, rows.Count - i);
                return false;
            }

            if (now - leaseRenewedAt > campaign.LeaseDuration / 3)
            {
                // A job that stalled past its lease may have lost rows to another job: it must not send them again.
                if (await ledger.RenewLeaseAsync(owner, now + campaign.LeaseDuration, CancellationToken.None) < rows.Count - i)
                {
                    CampaignsLog.LeaseLost(logger, mailing.Mailing, rows.Count - i);
                    return true;
                }

                leaseUntil = now + campaign.LeaseDuration;
                leaseRenewedAt = now;
            }

            var subscriber = await ledger.SendingStateAsync(db, row);
            var decision = DeliveryRules.Decide(mailing, subscriber, platforms, campaign.MinGapBetweenMails, now);
            if (!decision.Send)
            {
                await ledger.MarkFinishedAsync(db, row.Id, owner, "skipped", attempted: false, now, decision.SkipReason!);
                continue;
            }

            var recipient = new Recipient(row.SubscriberId, subscriber!.Email, subscriber.Locale, decision.Platforms);
            var message = composer.Compose(mailing.Mailing, recipient, now);

            // The message in flight finishes even when the host is stopping: its outcome must reach the ledger.
            var result = await connection.SendAsync(message, CancellationToken.None);
            now = time.GetUtcNow();
            switch (result.Outcome)
            {
                case SendOutcome.Accepted:
                    consecutiveTransient = 0;
                    await ledger.MarkSentAsync(db, row.Id, owner, now, message.MessageId, result.Reply);
                    break;
                case SendOutcome.Permanent:
                    consecutiveTransient = 0;
                    await ledger.MarkFinishedAsync(db, row.Id, owner, "failed", attempted: true, now, result.Reply);
                    CampaignsLog.Rejected(logger, row.Id, mailing.Mailing, result.Reply);
                    break;
                default:
                    consecutiveTransient++;
                    if (row.Attempts + 1 >= campaign.MaxAttempts)
                    {
                        await ledger.MarkFinishedAsync(db, row.Id, owner, "failed", attempted: true, now, result.Reply);
                        CampaignsLog.GaveUp(logger, row.Id, mailing.Mailing, row.Attempts + 1, result.Reply);
                    }
                    else
                    {
                        var retryAt = now + DeliveryRules.Backoff(campaign.RetryBaseDelay, row.Attempts + 1);
                        await ledger.RequeueAsync(db, row.Id, owner, attempted: true, now, retryAt, result.Reply);
                    }

                    break;
            }
        }

        return true;
    }
}
