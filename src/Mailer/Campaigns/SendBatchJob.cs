using Hangfire;
using Mailer.Bounces;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Storage;
using Microsoft.Extensions.Options;
using Scriban.Syntax;

namespace Mailer.Campaigns;

/// <summary>
/// The sending pipeline. The dispatcher has written one ledger row per subscriber and mailing and keeps about
/// <c>Smtp:Connections</c> of these jobs waiting in the <c>send</c> queue, whose server runs that many workers.
/// Each job opens one SMTP connection and, batch after batch, claims <c>Campaign:BatchSize</c> rows under a lease.
/// For each row it reads the subscriber as they are now (an unsubscribe or a done mark counts until that moment),
/// applies the campaign's rules, composes the message (the mail's variant is rendered once and filled in with this
/// subscriber's address and links), sends it (the transport holds to <c>Smtp:MaxMessagesPerSecond</c>) and records
/// the outcome the moment the server answered. A transient failure puts the row back with a growing delay until
/// <c>Campaign:MaxAttempts</c>; a permanent one is recorded with the server's reply.
/// Everything is safe to repeat: a row is only touched while its lease is this job's, and a job that dies leaves its
/// rows leased until the lease runs out, when the next claim takes them back. The one window: a message the server
/// accepted in the moment the process died, before its row was recorded, goes out again — one per open connection.
/// </summary>
public sealed class SendBatchJob(
    DeliveryLedger ledger,
    CampaignClock clock,
    CampaignMails mails,
    CampaignCatalog catalog,
    IMailTransport transport,
    SendProgress progress,
    ReturnPath returnPath,
    BounceIntake bounces,
    MailingBreaker breaker,
    IBackgroundJobClient jobs,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    Observability.MailerMetrics metrics,
    ILogger<SendBatchJob> logger)
{
    /// <summary>A job hands over to a fresh one after this long, so no job outlives its storage's patience.</summary>
    internal static readonly TimeSpan MaxRunTime = TimeSpan.FromMinutes(2);

    private const int ConsecutiveTransientLimit = 3;

    /// <summary>
    /// Sends batch after batch, each from the most urgent open mailing that has rows to claim (<see cref="ByUrgency"/>):
    /// <paramref name="mailing"/> names the one it was queued for, but a final-day reminder that comes due while this
    /// job works through the announcement takes its next batch, so no mailing waits behind another.
    /// </summary>
    [Queue("send")]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string mailing, CancellationToken cancellationToken)
    {
        var owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        var started = time.GetUtcNow();

        await using var connection = await transport.OpenAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            ScheduledMailing? schedule;
            IReadOnlyList<ClaimedDelivery> rows;
            DateTimeOffset leaseUntil;
            try
            {
                (schedule, rows, leaseUntil) = await ClaimMostUrgentAsync(owner, cancellationToken);
            }
            catch (Exception e) when (StoreOutage.Is(e))
            {
                // Nothing in hand (or rows that come back when their lease runs out, if only the claim's answer was
                // lost): the dispatcher starts jobs again while rows wait.
                CampaignsLog.StoreUnavailable(logger, mailing, 0, e.GetType().Name);
                return;
            }

            if (rows.Count == 0)
            {
                return;
            }

            CampaignsLog.BatchClaimed(logger, schedule!.Mailing, rows.Count);
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

    /// <summary>The due mailings in the order their rows are claimed: the one whose moment ends first, the announcement (open for good) last.</summary>
    internal static IEnumerable<ScheduledMailing> ByUrgency(IEnumerable<ScheduledMailing> mailings, DateTimeOffset now) =>
        mailings.Where(m => m.IsOpenAt(now)).OrderBy(m => m.Ends ?? DateTimeOffset.MaxValue);

    /// <summary>A batch of the most urgent mailing that has claimable rows; an empty batch when none has.</summary>
    private async Task<(ScheduledMailing? Mailing, IReadOnlyList<ClaimedDelivery> Rows, DateTimeOffset LeaseUntil)> ClaimMostUrgentAsync(
        string owner, CancellationToken cancellationToken)
    {
        var campaign = options.Value;
        var now = time.GetUtcNow();
        var leaseUntil = now + campaign.LeaseDuration;
        foreach (var schedule in ByUrgency(await clock.MailingsAsync(cancellationToken), now))
        {
            if (await IsPausedAsync(schedule.Key, cancellationToken))
            {
                // Paused by the circuit breaker: its rows stay queued until 'resume'.
                continue;
            }

            var rows = await ledger.ClaimAsync(schedule.Campaign, schedule.Mailing, owner, campaign.BatchSize, now, leaseUntil, cancellationToken);
            if (rows.Count > 0)
            {
                _batchMailing = schedule.Key;
                return (schedule, rows, leaseUntil);
            }
        }

        return (null, [], leaseUntil);
    }

    /// <summary>
    /// Whether the circuit breaker holds the mailing. The dispatcher judges every mailing each poll; this job judges it
    /// too right after a batch with refusals (at most every 10 s), so a list that bounces at the door stops within a batch.
    /// </summary>
    private async Task<bool> IsPausedAsync(string mailing, CancellationToken cancellationToken)
    {
        if (_refusedSinceCheck == 0 || mailing != _batchMailing || (_lastBreakerCheck is { } last && System.Diagnostics.Stopwatch.GetElapsedTime(last) < BreakerCheckEvery))
        {
            return await breaker.PausedAsync(mailing, cancellationToken) is not null;
        }

        _refusedSinceCheck = 0;
        _lastBreakerCheck = System.Diagnostics.Stopwatch.GetTimestamp();
        return await breaker.CheckAsync(mailing, time.GetUtcNow(), cancellationToken);
    }

    private static readonly TimeSpan BreakerCheckEvery = TimeSpan.FromSeconds(10);
    private int _refusedSinceCheck;   // refusals in the batches of _batchMailing since the breaker last judged it
    private string? _batchMailing;
    private long? _lastBreakerCheck;

    /// <summary>Sends one claimed batch, row by row; false when the job should stop (server or store unreachable, shutdown, lease lost).</summary>
    private async Task<bool> SendAsync(ScheduledMailing mailing, IReadOnlyList<ClaimedDelivery> rows, string owner,
        DateTimeOffset leaseUntil, IMailConnection connection, CancellationToken cancellationToken)
    {
        var campaign = options.Value;
        var leaseRenewedAt = time.GetUtcNow();
        var consecutiveTransient = 0;
        bool MustStop() => cancellationToken.IsCancellationRequested || consecutiveTransient >= ConsecutiveTransientLimit;

        var next = 0;
        DeliveryOutcome? unrecorded = null;   // a message the server answered, its outcome not yet in the ledger
        try
        {
            await using var db = await ledger.OpenAsync(CancellationToken.None);
            while (next < rows.Count)
            {
                var now = time.GetUtcNow();
                if (MustStop())
                {
                    // Shutting down, or the server is not taking mail: the rest goes back to the queue untried.
                    var notBefore = cancellationToken.IsCancellationRequested ? now : now + campaign.RetryBaseDelay;
                    await ledger.RecordAsync(db, owner, [.. rows.Skip(next).Select(r => DeliveryOutcome.Requeued(r.Id, attempted: false, now, notBefore, reply: null))]);
                    metrics.Messages(mailing.Campaign, mailing.Mailing, "queued", rows.Count - next);
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
                    // A job that stalled past its lease may have lost rows to another job: it must not send them again, nor
                    // go on at all (it is that far behind). The rows still its own go back to the queue for the next job.
                    long[] inHand = [.. rows.Skip(next).Select(r => r.Id)];
                    if (await ledger.RenewLeaseAsync(owner, inHand, now + campaign.LeaseDuration, CancellationToken.None) < inHand.Length)
                    {
                        metrics.Messages(mailing.Campaign, mailing.Mailing, "queued", await ledger.RecordAsync(db, owner, [.. inHand.Select(id => DeliveryOutcome.Requeued(id, attempted: false, now, now, reply: null))]));
                        CampaignsLog.LeaseLost(logger, mailing.Mailing, inHand.Length);
                        return false;
                    }

                    leaseUntil = now + campaign.LeaseDuration;
                    leaseRenewedAt = now;
                }

                // One row: the subscriber read right before the message, the outcome recorded right after the answer.
                var row = rows[next];
                var subscriber = await ledger.SendingStateAsync(db, row);
                var (outcome, result) = await SendOneAsync(mailing, row, subscriber, connection, now);
                unrecorded = outcome;
                await ledger.RecordAsync(db, owner, outcome);
                unrecorded = null;
                progress.Add(mailing.Mailing, outcome);
                metrics.Messages(mailing.Campaign, mailing.Mailing, outcome.Status);
                next++;
                _refusedSinceCheck += result == SendOutcome.Permanent ? 1 : 0;
                consecutiveTransient = result switch
                {
                    SendOutcome.Transient => consecutiveTransient + 1,
                    null => consecutiveTransient,
                    _ => 0,
                };
            }
        }
        catch (Exception e) when (StoreOutage.Is(e))
        {
            // The store went away (PostgreSQL restarting, SQLite's disk full): nothing more is sent until it is back.
            CampaignsLog.StoreUnavailable(logger, mailing.Mailing, rows.Count - next, e.GetType().Name);
            var now = time.GetUtcNow();
            var untried = rows.Skip(unrecorded is null ? next : next + 1).Select(r => DeliveryOutcome.Requeued(r.Id, attempted: false, now, now, reply: null));
            if (await OutageRecorder.RecordWhenBackAsync(ledger, owner, [.. unrecorded is null ? untried : untried.Prepend(unrecorded)],
                () => time.GetUtcNow() >= leaseUntil, logger, cancellationToken) && unrecorded is not null)
            {
                progress.Add(mailing.Mailing, unrecorded);
                metrics.Messages(mailing.Campaign, mailing.Mailing, unrecorded.Status);
            }

            return false;
        }

        return true;
    }

    /// <summary>One row: the rules, then the message; the outcome to record and the server's verdict (null when skipped).</summary>
    private async Task<(DeliveryOutcome Outcome, SendOutcome? Result)> SendOneAsync(ScheduledMailing mailing, ClaimedDelivery row,
        SendingState? subscriber, IMailConnection connection, DateTimeOffset now)
    {
        var campaign = catalog.Get(mailing.Campaign);
        var decision = DeliveryRules.Decide(mailing, subscriber, campaign.Platforms.Keys, campaign.MinGapBetweenMails, now);
        if (decision.WaitUntil is { } until)
        {
            return (DeliveryOutcome.Requeued(row.Id, attempted: false, now, until, decision.SkipReason), null);
        }

        if (!decision.Send)
        {
            return (DeliveryOutcome.Finished(row.Id, "skipped", attempted: false, now, decision.SkipReason!), null);
        }

        var recipient = new Recipient(row.SubscriberId, subscriber!.Email, subscriber.Locale, decision.Platforms) { Campaign = mailing.Campaign };
        ComposedMail message;
        try
        {
            message = mails.For(mailing.Campaign).Compose(mailing.Mailing, recipient, now);
        }
        catch (Exception e) when (e is ArgumentException or ScriptRuntimeException)
        {
            // This subscriber's values (an address no header can carry, a template branch only they reach): composing
            // again gives the same error, so the row fails alone and the batch goes on.
            var reason = NotComposedReason(e);
            CampaignsLog.NotComposed(logger, row.Id, mailing.Mailing, reason);
            return (DeliveryOutcome.Finished(row.Id, "failed", attempted: true, now, reason), null);
        }

        // The message in flight finishes even when the host is stopping: its outcome must reach the ledger.
        var result = await connection.SendAsync(message, returnPath.ForDelivery(row.Id), CancellationToken.None);
        now = time.GetUtcNow();
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                return (DeliveryOutcome.Sent(row.Id, now, message.MessageId, result.Reply), result.Outcome);
            case SendOutcome.Permanent:
                CampaignsLog.Rejected(logger, row.Id, mailing.Mailing, result.Reply);
                // 550 5.1.1 at the door counts as a hard bounce of the address, as a DSN would.
                await bounces.RecordRefusalAsync(row.Id, result.Reply, CancellationToken.None);
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

    /// <summary>Why a message could not be composed, short and without the subscriber's address.</summary>
    internal static string NotComposedReason(Exception e)
    {
        var reason = $"failed: the message could not be composed: {CampaignsLog.WithoutAddresses(e.Message)}";
        return reason.Length <= 300 ? reason : reason[..300];
    }
}
