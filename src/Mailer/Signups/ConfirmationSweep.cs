using Hangfire;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Signups;

/// <summary>
/// Queues again the confirmation mails that were asked for and never went out: their job was lost (Hangfire's in-memory
/// storage forgets its jobs on a restart, a signup could not queue one) or the server deferred them. The dispatcher runs
/// it every <c>Campaign:PollInterval</c>. A request counts as lost only when
/// <list type="bullet">
/// <item>no confirmation job waits in Hangfire's queue: during a rush, a request may still be in one of them;</item>
/// <item>no job holds its claim (<see cref="ConfirmMailJob"/>), and no job was queued for it in the last <see cref="LostAfter"/>;</item>
/// <item>its link would still hold (<c>Subscribers:ConfirmWithin</c>): a deferred mail is tried again at most every
/// <see cref="LostAfter"/>, and never after that.</item>
/// </list>
/// The store marks what the sweep takes in the same statement, so each lost request gets one new job, and two instances
/// do not both queue it; were they to, the claim still lets one mail out.
/// </summary>
public sealed class ConfirmationSweep(
    ISubscriberStore store,
    IBackgroundJobClient jobs,
    JobStorage storage,
    IOptions<SubscribersOptions> options,
    TimeProvider time,
    ILogger<ConfirmationSweep> logger)
{
    /// <summary>A confirmation mail queued this long ago and neither sent nor claimed counts as lost.</summary>
    internal static readonly TimeSpan LostAfter = TimeSpan.FromMinutes(5);

    /// <summary>Most requests one run queues.</summary>
    internal const int MaxPerRun = 500;

    /// <summary>Queues the lost requests in jobs of up to <see cref="ConfirmationQueue.MaxBatch"/>; returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (storage.GetMonitoringApi().EnqueuedCount(ConfirmMailJob.Queue) > 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        var lost = await store.TakeLostConfirmationsAsync(now, now - LostAfter, now - options.Value.ConfirmWithin, MaxPerRun, cancellationToken);
        ConfirmationQueue.EnqueueInBatches(jobs, lost);

        if (lost.Count > 0)
        {
            SignupLog.ConfirmationsRequeued(logger, lost.Count);
        }

        return lost.Count;
    }
}
