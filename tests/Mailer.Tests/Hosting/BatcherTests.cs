using Mailer.Hosting;

namespace Mailer.Tests.Hosting;

public sealed class BatcherTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_RequestsWaitingWhileABatchRuns_AreHandledTogetherInTheNext()
    {
        var batches = new List<int[]>();
        var firstMayFinish = new TaskCompletionSource();
        var batcher = new Batcher<int, string>(async batch =>
        {
            lock (batches)
            {
                batches.Add([.. batch.Select(item => item.Request)]);
            }

            if (batch[0].Request == 0)
            {
                await firstMayFinish.Task;
            }

            foreach (var item in batch)
            {
                item.Complete($"#{item.Request}");
            }
        }, maxBatch: 10);

        var first = batcher.RunAsync(0, Cancel);
        await WaitUntilAsync(() => { lock (batches) { return batches.Count == 1; } });
        var waiting = Enumerable.Range(1, 5).Select(i => batcher.RunAsync(i, Cancel)).ToList();
        firstMayFinish.SetResult();

        Assert.Equal("#0", await first.WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        Assert.Equal(["#1", "#2", "#3", "#4", "#5"], await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        Assert.Equal([[0], [1, 2, 3, 4, 5]], batches);
    }

    [Fact]
    public async Task RunAsync_ARequestAlone_HandledWithoutWaiting_IsAnsweredOnTheCallersThread()
    {
        var callers = new List<int>();
        var batcher = new Batcher<int, int>(batch =>
        {
            callers.Add(Environment.CurrentManagedThreadId);
            batch[0].Complete(batch[0].Request + 1);
            return Task.CompletedTask;
        }, maxBatch: 4);

        var answer = batcher.RunAsync(41, Cancel);

        Assert.True(answer.IsCompletedSuccessfully);
        Assert.Equal(42, await answer);
        Assert.Equal([Environment.CurrentManagedThreadId], callers);
    }

    [Fact]
    public async Task RunAsync_ManyCallersOnManyThreads_EveryOneGetsItsOwnResult_InBatchesOfAtMostTheMaximum()
    {
        var largest = 0;
        var batches = 0;
        var batcher = new Batcher<int, int>(async batch =>
        {
            Interlocked.Increment(ref batches);
            InterlockedMax(ref largest, batch.Count);
            await Task.Yield();
            foreach (var item in batch)
            {
                item.Complete(item.Request * 2);
            }
        }, maxBatch: 16);

        var results = await Task.WhenAll(Enumerable.Range(0, 5_000).Select(i => Task.Run(() => batcher.RunAsync(i, Cancel), Cancel)))
            .WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => i * 2), results);
        Assert.InRange(largest, 1, 16);
        Assert.InRange(batches, 5_000 / 16, 5_000);
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_EveryRequestOfTheBatchGetsTheException_AndTheNextBatchRuns()
    {
        var calls = 0;
        var batcher = new Batcher<int, int>(batch =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidDataException("disk full");
            }

            foreach (var item in batch)
            {
                item.Complete(item.Request);
            }

            return Task.CompletedTask;
        }, maxBatch: 4);

        var failed = await Assert.ThrowsAsync<InvalidDataException>(() => batcher.RunAsync(1, Cancel));
        Assert.Equal("disk full", failed.Message);
        Assert.Equal(2, await batcher.RunAsync(2, Cancel).WaitAsync(TimeSpan.FromSeconds(10), Cancel));
    }

    [Fact]
    public async Task RunAsync_HandlerLeavesARequestOpen_ItFailsInsteadOfHanging()
    {
        var batcher = new Batcher<int, int>(_ => Task.CompletedTask, maxBatch: 4);

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.RunAsync(1, Cancel).WaitAsync(TimeSpan.FromSeconds(10), Cancel));
    }

    [Fact]
    public async Task RunAsync_CallerStopsWaiting_TheRequestIsStillHandled()
    {
        var handled = new TaskCompletionSource<int>();
        var mayRun = new TaskCompletionSource();
        var batcher = new Batcher<int, int>(async batch =>
        {
            await mayRun.Task;
            batch[0].Complete(batch[0].Request);
            handled.SetResult(batch[0].Request);
        }, maxBatch: 4);
        using var gaveUp = new CancellationTokenSource();

        var call = batcher.RunAsync(7, gaveUp.Token);
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        mayRun.SetResult();

        Assert.Equal(7, await handled.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancel));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
