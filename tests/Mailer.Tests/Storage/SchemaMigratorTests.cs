using Dapper;
using Mailer.Hosting;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Storage;

public sealed class SchemaMigratorTests
{
    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    [Fact]
    public void EveryMigration_HasAVersionForEachDatabase_InTheSameOrder()
    {
        var sqlite = SchemaMigrator.Migrations(StorageProvider.Sqlite);
        var postgreSql = SchemaMigrator.Migrations(StorageProvider.PostgreSql);

        Assert.NotEmpty(sqlite);
        Assert.Equal(sqlite.Select(m => (m.Version, m.Name)), postgreSql.Select(m => (m.Version, m.Name)));
        // Distinct and ascending; numbers are handed out per branch, so a branch alone may leave a gap.
        Assert.Equal(sqlite.Select(m => m.Version).Distinct().Order(), sqlite.Select(m => m.Version));
        Assert.DoesNotContain(postgreSql, m => m.Sql.Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Migrate_OnAMigratedStore_ChangesNothing(StorageProvider provider)
    {
        await using var store = await TestStore.CreateAsync(provider);
        var before = await AppliedAsync(store.Database);

        await new SchemaMigrator(store.OpenAnother(), NullLogger<SchemaMigrator>.Instance).MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Equal(before, await AppliedAsync(store.Database));
        Assert.Equal(SchemaMigrator.Migrations(provider).Select(m => m.Version), before.Select(a => a.Version));
    }

    [Fact]
    public async Task Migrate_OnPostgreSql_StartedByManyInstancesAtOnce_AppliesEachMigrationOnce()
    {
        await using var postgres = await PostgresTestDatabase.CreateAsync();
        var folder = TestPaths.NewTemporaryDirectory("migrate");
        var instances = Enumerable.Range(0, 6)
            .Select(_ => new Database(Options.Create(postgres.StorageOptions), Options.Create(new MailerOptions { DataDirectory = folder }),
                new HostingEnvironment { ContentRootPath = folder, EnvironmentName = Environments.Production }))
            .ToList();

        await Task.WhenAll(instances.Select(database =>
            Task.Run(() => new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(TestContext.Current.CancellationToken))));

        var applied = await AppliedAsync(instances[0]);
        Assert.Equal(SchemaMigrator.Migrations(StorageProvider.PostgreSql).Select(m => m.Version), applied.Select(a => a.Version));
        foreach (var database in instances)
        {
            await database.DisposeAsync();
        }
    }

    private static async Task<List<(int Version, long AppliedAt)>> AppliedAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        return [.. await connection.QueryAsync<(int, long)>("SELECT version, applied_at FROM schema_version ORDER BY version")];
    }
}
