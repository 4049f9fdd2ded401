using Dapper;
using Mailer.Hosting;
using Mailer.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mailer.Tests.Storage;

public sealed class DatabaseTests
{
    [Fact]
    public async Task EnterWrite_OnSqlite_LetsOneWriterInAtATime_InTurn()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.Sqlite);
        var first = await store.Database.EnterWriteAsync(TestContext.Current.CancellationToken);
        var second = store.Database.EnterWriteAsync(TestContext.Current.CancellationToken).AsTask();
        using var thirdGivesUp = new CancellationTokenSource();
        var third = store.Database.EnterWriteAsync(thirdGivesUp.Token).AsTask();

        // No sleep and look: whether a waiter got a turn is decided by the gate, and one that has none can still give
        // up. A writer arriving now finds no free turn while the first holds it.
        await AssertNoFreeTurnAsync(store.Database);

        first!.Dispose();
        first.Dispose();   // a second dispose gives back nothing more
        using var secondTurn = await second.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // The first's one turn went to the second (the first in line); had the double dispose given back two, the third
        // would hold the other now and could no longer give up.
        await thirdGivesUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        await AssertNoFreeTurnAsync(store.Database);
    }

    /// <summary>A writer that asks for a turn and gives up at once is refused: a free turn would be given synchronously.</summary>
    private static async Task AssertNoFreeTurnAsync(Database database)
    {
        using var giveUp = new CancellationTokenSource();
        var probe = database.EnterWriteAsync(giveUp.Token).AsTask();
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);
    }

    [Fact]
    public async Task EnterWrite_Cancelled_WhileWaiting_LeavesTheTurnToTheOthers()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.Sqlite);
        using var cancel = new CancellationTokenSource();
        var first = await store.Database.EnterWriteAsync(TestContext.Current.CancellationToken);
        var gaveUp = store.Database.EnterWriteAsync(cancel.Token).AsTask();
        var next = store.Database.EnterWriteAsync(TestContext.Current.CancellationToken).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);
        first!.Dispose();
        using var turn = await next.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.NotNull(turn);
    }

    [Fact]
    public async Task Open_OnSqlite_AReusedPooledConnection_KeepsItsSettings()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.Sqlite);
        for (var i = 0; i < 3; i++)
        {
            await using var connection = await store.Database.OpenAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys"));
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA synchronous"));   // NORMAL
            Assert.Equal(-512, await connection.ExecuteScalarAsync<long>("PRAGMA cache_size"));
            Assert.True(await connection.ExecuteScalarAsync<long>("PRAGMA busy_timeout") > 0);
        }
    }

    [Theory]
    [InlineData("Host=db.example;Database=mailer", 32, "Mailer")]
    [InlineData("Host=db.example;Database=mailer;Max Auto Prepare=0;Application Name=blog", 0, "blog")]
    [InlineData("Host=db.example;Database=mailer;MaxAutoPrepare=5", 5, "Mailer")]
    public async Task PostgreSqlConnectionString_PreparesStatementsAndNamesItself_UnlessTheOperatorSaysOtherwise(
        string configured, int autoPrepare, string applicationName)
    {
        await using var database = new Database(
            Options.Create(new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = configured }),
            Options.Create(new MailerOptions()),
            new HostingEnvironment { ContentRootPath = Path.GetTempPath(), EnvironmentName = Environments.Production });

        var used = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        Assert.Equal(autoPrepare, used.MaxAutoPrepare);
        Assert.Equal(applicationName, used.ApplicationName);
        Assert.Equal("db.example", used.Host);
    }

    [Fact]
    public async Task EnterWrite_OnPostgreSql_HasNothingToWaitFor()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.PostgreSql);
        using var first = await store.Database.EnterWriteAsync(TestContext.Current.CancellationToken);
        using var second = await store.Database.EnterWriteAsync(TestContext.Current.CancellationToken);
        Assert.Null(first);
        Assert.Null(second);
    }
}
