using System.Data.Common;
using Dapper;
using Mailer.Storage;

namespace Mailer.Tests.Storage;

public sealed class GroupCommitTests
{
    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Write_ManyAtOnce_EachIsCommittedBeforeItsAnswer(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await CreateTableAsync(store.Database);
        // That they share transactions on SQLite is the next test's; here, only that an answer means committed.
        var commit = new GroupCommit<int, long>(store.Database, async (connection, transaction, n) =>
        {
            await connection.ExecuteAsync("INSERT INTO group_commit_test (n) VALUES (@N)", new { N = n }, transaction);
            return n;
        });

        var answered = await Task.WhenAll(Enumerable.Range(0, 500).Select(n => Task.Run(async () =>
        {
            await commit.WriteAsync(n, Cancel);
            // Answered: the row is visible to any other connection, so it was committed.
            await using var reader = await store.Database.OpenAsync(Cancel);
            return await reader.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM group_commit_test WHERE n = @N", new { N = n });
        }, Cancel)));

        Assert.All(answered, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task Write_OnSqlite_WritesArrivingWhileABatchIsWritten_ShareTransactions_OfAtMostMaxBatch()
    {
        // The first write holds its batch open until all the others are waiting; then they must go in full batches:
        // 300 waiting writes in 3 transactions (128 + 128 + 44), not 300. A group commit that commits one by one fails here.
        const int waiting = 2 * GroupCommit<int, int>.MaxBatch + 44;
        await using var store = await TestStore.CreateAsync(StorageProvider.Sqlite);
        await CreateTableAsync(store.Database);
        var transactionOf = new Dictionary<int, DbTransaction>();
        var firstIsWriting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstMayFinish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commit = new GroupCommit<int, int>(store.Database, async (connection, transaction, n) =>
        {
            lock (transactionOf)
            {
                transactionOf[n] = transaction;
            }

            if (n == 0)
            {
                firstIsWriting.SetResult();
                await firstMayFinish.Task;
            }

            await connection.ExecuteAsync("INSERT INTO group_commit_test (n) VALUES (@N)", new { N = n }, transaction);
            return n;
        });

        var first = commit.WriteAsync(0, Cancel);
        await firstIsWriting.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        // Each call below has queued its write when it returns (the batch of the first is still open).
        var others = Enumerable.Range(1, waiting).Select(n => commit.WriteAsync(n, Cancel)).ToArray();
        firstMayFinish.SetResult();

        Assert.Equal(0, await first.WaitAsync(TimeSpan.FromSeconds(30), Cancel));
        Assert.Equal(Enumerable.Range(1, waiting), await Task.WhenAll(others).WaitAsync(TimeSpan.FromSeconds(30), Cancel));
        var shared = Enumerable.Range(1, waiting)
            .GroupBy(n => transactionOf[n], ReferenceEqualityComparer.Instance)
            .Select(g => g.Count())
            .ToList();
        Assert.Equal([GroupCommit<int, int>.MaxBatch, GroupCommit<int, int>.MaxBatch, 44], shared);
        Assert.DoesNotContain(transactionOf[0], Enumerable.Range(1, waiting).Select(n => transactionOf[n]));
        await using var connection = await store.Database.OpenAsync(Cancel);
        Assert.Equal(waiting + 1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM group_commit_test"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Write_OneFailsInABatch_TheOthersAreCommitted_AndNothingOfTheFailedOneIsLeft(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await CreateTableAsync(store.Database);
        var firstIsWriting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstMayFinish = new TaskCompletionSource();
        var commit = new GroupCommit<int, int>(store.Database, async (connection, transaction, n) =>
        {
            await connection.ExecuteAsync("INSERT INTO group_commit_test (n) VALUES (@N)", new { N = n }, transaction);
            if (n == 0)
            {
                firstIsWriting.SetResult();
                await firstMayFinish.Task;
            }

            // Half-written: the row above is in, then the write fails.
            return n == 13 ? throw new InvalidOperationException("write 13 fails") : n;
        });

        var first = commit.WriteAsync(0, Cancel);
        // On SQLite the four below then wait together behind the first's batch.
        await firstIsWriting.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        var together = new[] { 11, 12, 13, 14 }.Select(n => commit.WriteAsync(n, Cancel)).ToArray();
        firstMayFinish.SetResult();

        Assert.Equal(0, await first.WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => together[2].WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        Assert.Equal("write 13 fails", failed.Message);
        var committed = await Task.WhenAll(together[0], together[1], together[3]).WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        Assert.Equal([11, 12, 14], committed);
        await using var connection = await store.Database.OpenAsync(Cancel);
        var stored = await connection.QueryAsync<int>("SELECT n FROM group_commit_test ORDER BY n");
        Assert.Equal([0, 11, 12, 14], stored);
    }

    private static async Task CreateTableAsync(Database database)
    {
        await using var connection = await database.OpenAsync(Cancel);
        await connection.ExecuteAsync("CREATE TABLE group_commit_test (n INTEGER NOT NULL)");
    }
}
