using Dapper;
using Mailer.Hosting;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Storage;

/// <summary>
/// A migrated, empty store of one provider for one test: a SQLite file in a temporary folder, or a fresh PostgreSQL
/// database (see <see cref="PostgresTestDatabase"/> for when that skips). Tests that are not about one database take
/// <see cref="Providers"/> as theory data and run on both.
/// </summary>
public sealed class TestStore : IAsyncDisposable
{
    /// <summary>The campaign of the repository's appsettings.json, which the rows the tests write belong to.</summary>
    public const string Campaign = "meta-ai-objection";

    private readonly PostgresTestDatabase? _postgres;
    private readonly List<Database> _others = [];

    private TestStore(Database database, string folder, PostgresTestDatabase? postgres)
    {
        Database = database;
        Folder = folder;
        _postgres = postgres;
    }

    public static TheoryData<StorageProvider> Providers => [StorageProvider.Sqlite, StorageProvider.PostgreSql];

    public Database Database { get; }

    public string Folder { get; }

    public StorageProvider Provider => Database.Provider;

    /// <summary>A fresh store, migrated in full or (<paramref name="upToVersion"/>) as an older release left it.</summary>
    public static async Task<TestStore> CreateAsync(StorageProvider provider, int upToVersion = int.MaxValue)
    {
        var postgres = provider == StorageProvider.PostgreSql ? await PostgresTestDatabase.CreateAsync() : null;
        var folder = TestPaths.NewTemporaryDirectory("store");
        var database = NewDatabase(postgres?.StorageOptions ?? new StorageOptions(), folder);
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(upToVersion, CancellationToken.None);
        return new TestStore(database, folder, postgres);
    }

    /// <summary>Another <see cref="Mailer.Storage.Database"/> on the same store, as another instance of the service has; disposed with this.</summary>
    public Database OpenAnother()
    {
        var other = NewDatabase(_postgres?.StorageOptions ?? new StorageOptions(), Folder);
        _others.Add(other);
        return other;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _others.Append(Database))
        {
            await database.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A connection still closing elsewhere; the temporary folder is left for the system to clean.
        }
    }

    /// <summary>
    /// Confirmed subscribers <c>{prefix}0@example.net</c>, <c>{prefix}1@example.net</c>… written in one statement (fast
    /// on both databases, also for tens of thousands), as an import would; their ids in order.
    /// </summary>
    public static async Task<long[]> AddConfirmedAsync(Database database, int count, DateTimeOffset confirmedAt, string prefix = "person")
    {
        await using var connection = await database.OpenAsync();
        var before = await connection.ExecuteScalarAsync<long?>("SELECT MAX(id) FROM subscribers") ?? 0;
        await connection.ExecuteAsync(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @Count)
            INSERT INTO subscribers (campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at)
            SELECT 'meta-ai-objection', @Prefix || i || '@example.net', CASE WHEN i % 2 = 0 THEN 'de' ELSE 'en' END, 'facebook,instagram', '', 'confirmed', @At, @At
            FROM n ORDER BY i
            """,
            new { Count = count, Prefix = prefix, At = confirmedAt.ToUnixTimeMilliseconds() });
        return [.. await connection.QueryAsync<long>("SELECT id FROM subscribers WHERE id > @Before ORDER BY id", new { Before = before })];
    }

    private static Database NewDatabase(StorageOptions storage, string folder) =>
        new(Options.Create(storage), Options.Create(new MailerOptions { DataDirectory = folder }),
            new HostingEnvironment { ContentRootPath = folder, EnvironmentName = Environments.Development });
}
