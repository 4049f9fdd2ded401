using Hangfire;
using Mailer.Bounces;
using Mailer.Delivery;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// Runs every <c>Campaign:PollInterval</c>: for each mailing whose moment has come, writes the missing ledger rows
/// and makes sure send jobs are waiting while rows are claimable. It keeps no state of its own: after a restart
/// with empty Hangfire storage, its next run finds all pending work in the ledger. Several instances may run it at
/// once; the ledger's unique key, not timing, decides who gets a row.
/// </summary>
public sealed class DispatchJob(
    DeliveryLedger ledger,
    CampaignClock clock,
    JobStorage storage,
    IBackgroundJobClient jobs,
    ConfirmationSweep confirmations,
    ISubscriberStore subscribers,
    CampaignCatalog catalog,
    MailingBreaker breaker,
    IOptions<SmtpOptions> smtp,
    IOptions<CampaignOptions> options,
    TimeProvider time,
    Observability.MailerMetrics metrics,
    ILogger<DispatchJob> logger)
{
    public const string RecurringId = "dispatch";

    [Queue("dispatch")]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Confirmation mails whose job was lost or deferred: queued once more (see ConfirmationSweep for when).
        await confirmations.RunAsync(cancellationToken);
        await InviteStandingListAsync(cancellationToken);
        var claimable = 0L;
        string? first = null;
        foreach (var mailing in await clock.MailingsAsync(cancellationToken))
        {
            var now = time.GetUtcNow();
            if (now < mailing.Due)
            {
                continue;
            }

            if (mailing.HasPassedAt(now))
            {
                // Due while nobody was sending (the service was down): record it as skipped for those it was meant for.
                const string reason = "skipped: its moment passed before it could be sent";
                var recorded = await ledger.CreateRowsAsync(mailing.Campaign, mailing.Mailing, mailing.Due, "skipped", reason, now, cancellationToken);
                recorded += await ledger.SkipUnsentAsync(mailing.Campaign, mailing.Mailing, now, reason, cancellationToken);
                metrics.Messages(mailing.Campaign, mailing.Mailing, "skipped", recorded);
                if (recorded > 0)
                {
                    CampaignsLog.MailingPassed(logger, mailing.Mailing, recorded);
                }

                continue;
            }

            // A reminder goes to those confirmed before it was due; the announcement (late joiners) to everyone confirmed. The
            // rule stays the same from pass to pass, so each pass looks only at who changed since the last one (see CreateRowsAsync).
            var created = await ledger.CreateRowsAsync(mailing.Campaign, mailing.Mailing, mailing.ConfirmedBefore, "queued", null, now, cancellationToken);
            if (created > 0)
            {
                CampaignsLog.RowsCreated(logger, mailing.Mailing, created);
            }

            // A mailing that bounces too much waits for the operator ('resume'); its rows stay queued. Checked only when
            // rows wait: the check counts every message the mailing sent, and with nothing to send there is nothing to hold.
            var waiting = await ledger.CountClaimableAsync(mailing.Campaign, mailing.Mailing, now, (long)smtp.Value.Connections * options.Value.BatchSize, cancellationToken);
            if (waiting == 0 || await breaker.CheckAsync(mailing.Key, now, cancellationToken))
            {
                continue;
            }

            claimable += waiting;
            first ??= mailing.Mailing;
        }

        if (claimable > 0)
        {
            EnsureSenders(first!, claimable);
        }
    }

    /// <summary>
    /// A campaign with <c>InviteStandingList</c>, once its launch is due (and until its deadline): the people of the standing
    /// list become pending subscriptions whose confirmation mail is the invitation, queued here in jobs of
    /// <see cref="ConfirmationQueue.MaxBatch"/>. A job lost before it ran is queued again by the confirmation sweep.
    /// </summary>
    private async Task InviteStandingListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var campaign in catalog.All.Where(c => c.InviteStandingList && now < c.DeadlineUtc))
        {
            var launch = (await clock.MailingsAsync(campaign, cancellationToken)).Where(m => m.When == MailingWhen.Launch).Select(m => m.Due).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
            if (now >= launch && !await subscribers.InvitedAsync(campaign.Name, cancellationToken))
            {
                var invited = await subscribers.InviteStandingListAsync(campaign.Name, [.. campaign.Platforms.Keys.Select(p => p.ToLowerInvariant())], now, cancellationToken);
                ConfirmationQueue.EnqueueInBatches(jobs, invited);
                CampaignsLog.StandingListInvited(logger, campaign.Name, invited.Count);
            }
        }
    }

    /// <summary>
    /// Keeps up to <c>Smtp:Connections</c> send jobs waiting, fewer when there is less work. The count is over every
    /// mailing: a send job takes its batches from whichever due mailing is most urgent (see <see cref="SendBatchJob"/>).
    /// </summary>
    private void EnsureSenders(string mailing, long claimable)
    {
        var batchSize = options.Value.BatchSize;
        var wanted = (int)Math.Min(smtp.Value.Connections, (claimable + batchSize - 1) / batchSize);
        var waiting = storage.GetMonitoringApi().EnqueuedCount("send");
        for (var i = waiting; i < wanted; i++)
        {
            jobs.Enqueue<SendBatchJob>(job => job.RunAsync(mailing, CancellationToken.None));
        }
    }
}
