using Hangfire;
using Mailer.Hosting;

namespace Mailer.Signups;

/// <summary>
/// Turns confirmation requests into <see cref="ConfirmMailJob"/>s: the requests of signups that arrive together
/// share one job, and so one connection to the mail server. A lone signup gets a job of its own at once.
/// </summary>
public sealed class ConfirmationQueue
{
    /// <summary>Most confirmations in one job.</summary>
    public const int MaxBatch = 64;

    private readonly IBackgroundJobClient _jobs;
    private readonly Batcher<long, bool> _batcher;

    public ConfirmationQueue(IBackgroundJobClient jobs)
    {
        _jobs = jobs;
        _batcher = new Batcher<long, bool>(EnqueueAsync, MaxBatch);
    }

    /// <summary>Returns once a job for <paramref name="subscriberId"/> is in Hangfire's storage; throws if it could not be queued.</summary>
    public Task RequestAsync(long subscriberId, CancellationToken cancellationToken) =>
        _batcher.RunAsync(subscriberId, cancellationToken);

    /// <summary>Queues the confirmation mails of <paramref name="subscriberIds"/> now, in jobs of up to <see cref="MaxBatch"/> (the sweep's and the invitations' way).</summary>
    public static void EnqueueInBatches(IBackgroundJobClient jobs, IReadOnlyList<long> subscriberIds)
    {
        foreach (var chunk in subscriberIds.Chunk(MaxBatch))
        {
            jobs.Enqueue<ConfirmMailJob>(job => job.SendAsync(chunk, CancellationToken.None));
        }
    }

    private Task EnqueueAsync(IReadOnlyList<Batcher<long, bool>.Item> batch)
    {
        var subscriberIds = batch.Select(item => item.Request).ToArray();
        _jobs.Enqueue<ConfirmMailJob>(job => job.SendAsync(subscriberIds, CancellationToken.None));
        foreach (var item in batch)
        {
            item.Complete(true);
        }

        return Task.CompletedTask;
    }
}
