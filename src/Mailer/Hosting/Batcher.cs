using System.Collections.Concurrent;

namespace Mailer.Hosting;

/// <summary>
/// Requests that arrive together are handled together: one call of the handler for every request waiting at that
/// moment, up to a maximum. Each caller waits for its own request's result. One handler call runs at a time: the first
/// caller's batch on the caller's own thread, later ones on the thread pool; under light load a batch is a single
/// request and is handled at once, without a thread switch.
/// </summary>
/// <remarks>
/// The handler completes each item (<see cref="Item.Complete"/> or <see cref="Item.Fail"/>); an item it left open
/// fails with the handler's exception, or with an <see cref="InvalidOperationException"/> if it returned. A caller
/// that stops waiting (its request was aborted) does not take its request back: the handler may still run it.
/// </remarks>
public sealed class Batcher<TRequest, TResult>(Func<IReadOnlyList<Batcher<TRequest, TResult>.Item>, Task> handle, int maxBatch)
{
    private readonly ConcurrentQueue<Item> _queue = new();
    private int _draining;

    public int MaxBatch { get; } = maxBatch > 0 ? maxBatch : throw new ArgumentOutOfRangeException(nameof(maxBatch));

    public Task<TResult> RunAsync(TRequest request, CancellationToken cancellationToken)
    {
        var item = new Item(request);
        _queue.Enqueue(item);
        return Interlocked.CompareExchange(ref _draining, 1, 0) == 0
            ? LeadAsync(item, cancellationToken)
            : item.Result.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The caller that found nobody at work starts the waiting batch (its own request in it) on its own thread: a request
    /// that arrives alone and is handled without waiting costs no thread switch. Whatever queued up meanwhile is left to
    /// the thread pool.
    /// </summary>
    private Task<TResult> LeadAsync(Item item, CancellationToken cancellationToken)
    {
        _ = HandleFirstAsync();
        return item.Result.WaitAsync(cancellationToken);

        async Task HandleFirstAsync()
        {
            var batch = new List<Item>(MaxBatch);
            Take(batch);
            await HandleAsync(batch);
            if (!StepDown())
            {
                _ = Task.Run(DrainAsync, CancellationToken.None);
            }
        }
    }

    private async Task DrainAsync()
    {
        var batch = new List<Item>(MaxBatch);
        do
        {
            while (Take(batch) > 0)
            {
                await HandleAsync(batch);
                batch.Clear();
            }
        }
        while (!StepDown());
    }

    private int Take(List<Item> batch)
    {
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
        {
            batch.Add(next);
        }

        return batch.Count;
    }

    /// <summary>
    /// Stops draining; false if requests are waiting and this drain must go on. Looks once more after stepping down, for
    /// a request queued after the last look but before the step down, whose caller saw a drain under way and started none.
    /// </summary>
    private bool StepDown()
    {
        Volatile.Write(ref _draining, 0);
        return _queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0;
    }

    private async Task HandleAsync(List<Item> batch)
    {
        Exception? failure = null;
        try
        {
            await handle(batch);
        }
        catch (Exception e)
        {
            failure = e;
        }

        foreach (var item in batch.Where(item => !item.Result.IsCompleted))
        {
            item.Fail(failure ?? new InvalidOperationException("The batch handler left a request without a result."));
        }
    }

    /// <summary>One request of a batch and the way to answer it; the first answer counts.</summary>
    public sealed class Item(TRequest request)
    {
        // Callers continue on the thread pool, not on the drain's thread between two batches.
        private readonly TaskCompletionSource<TResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TRequest Request { get; } = request;

        internal Task<TResult> Result => _result.Task;

        public void Complete(TResult result) => _result.TrySetResult(result);

        public void Fail(Exception exception) => _result.TrySetException(exception);
    }
}
