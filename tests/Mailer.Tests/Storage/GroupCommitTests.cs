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
    public async Task Write_ManyAtOnce_EachIsCommittedBeforeItsAnswer_SharingTransactions(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await CreateTableAsync(store.Database);
        var transactions = new HashSet<DbTransaction>(ReferenceEqualityComparer.Instance);
        var commit = new GroupCommit<int, long>(store.Database, async (connection, transaction, n) =>
        {
            lock (transactions)
            {
                transactions.Add(transaction);
            }

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
        Assert.InRange(transactions.Count, 500 / GroupCommit<int, long>.MaxBatch, 500);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Write_OneFailsInABatch_TheOthersAreCommitted_AndNothingOfTheFailedOneIsLeft(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        await CreateTableAsync(store.Database);
        var firstMayFinish = new TaskCompletionSource();
        var commit = new GroupCommit<int, int>(store.Database, async (connection, transaction, n) =>
        {
            await connection.ExecuteAsync("INSERT INTO group_commit_test (n) VALUES (@N)", new { N = n }, transaction);
            if (n == 0)
            {
                await firstMayFinish.Task;
            }

            // Half-written: the row above is in, then the write fails.
            return n == 13 ? throw new InvalidOperationException("write 13 fails") : n;
        });

        var first = commit.WriteAsync(0, Cancel);
        await Task.Delay(100, Cancel);
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
