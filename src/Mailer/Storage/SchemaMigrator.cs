using System.Reflection;
using Dapper;

namespace Mailer.Storage;

/// <summary>
/// Brings the schema up to date at start. Migrations are the embedded files <c>Storage/Migrations/NNN_name.sql</c>,
/// applied in order, each in its own transaction, and recorded in <c>schema_version</c>. Where the dialects
/// differ, <c>NNN_name.sqlite.sql</c> and <c>NNN_name.postgresql.sql</c> stand in for the common file. A migration may
/// use <c>@Campaign</c>: the campaign the rows from before several campaigns belong to (<see cref="StoreCampaign"/>).
/// A SQLite migration that starts with <c>-- foreign_keys: off</c> builds a table again: it runs with foreign keys
/// off (SQLite ignores the switch inside a transaction, so it is thrown outside) and is checked with
/// <c>PRAGMA foreign_key_check</c> before it commits.
/// </summary>
public sealed class SchemaMigrator(Database database, ILogger<SchemaMigrator> logger, StoreCampaign? campaign = null)
{
    private const string ForeignKeysOff = "-- foreign_keys: off";

    public Task MigrateAsync(CancellationToken cancellationToken = default) => MigrateAsync(int.MaxValue, cancellationToken);

    /// <summary>Applies the migrations up to <paramref name="upToVersion"/>: a store as an older release left it (upgrade tests).</summary>
    public async Task MigrateAsync(int upToVersion, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.IsSqlite)
        {
            // WAL lets readers (dashboard, status) run beside the one writer; it is a property of the file.
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }
        else
        {
            // Several instances may start at once: one migrates, the others wait for it.
            await connection.ExecuteAsync("SELECT pg_advisory_lock(7316001)");
        }

        try
        {
            await connection.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
            var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_version")).ToHashSet();
            foreach (var migration in Migrations(database.Provider).Where(m => !applied.Contains(m.Version) && m.Version <= upToVersion))
            {
                var rebuild = database.IsSqlite && migration.Sql.StartsWith(ForeignKeysOff, StringComparison.Ordinal);
                if (rebuild)
                {
                    await connection.ExecuteAsync("PRAGMA foreign_keys = OFF");
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await connection.ExecuteAsync(migration.Sql, new { Campaign = (campaign ?? StoreCampaign.Default).Name }, transaction);
                if (rebuild)
                {
                    var broken = (await connection.QueryAsync("PRAGMA foreign_key_check", transaction: transaction)).Count();
                    if (broken > 0)
                    {
                        throw new InvalidOperationException($"Migration {migration.Version} ({migration.Name}) would leave {broken} rows pointing at nothing; nothing was changed.");
                    }
                }

                await connection.ExecuteAsync(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, @At)",
                    new { migration.Version, migration.Name, At = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                    transaction);
                await transaction.CommitAsync(cancellationToken);
                if (rebuild)
                {
                    await connection.ExecuteAsync("PRAGMA foreign_keys = ON");
                }

                StorageLog.MigrationApplied(logger, migration.Version, migration.Name);
            }
        }
        finally
        {
            if (!database.IsSqlite)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(7316001)");
            }
        }
    }

    public sealed record Migration(int Version, string Name, string Sql);

    /// <summary>The migrations for <paramref name="provider"/>, in order.</summary>
    public static IReadOnlyList<Migration> Migrations(StorageProvider provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        const string prefix = "Mailer.Storage.Migrations.";
        var dialect = provider == StorageProvider.Sqlite ? ".sqlite.sql" : ".postgresql.sql";
        var names = assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();

        return names
            .Select(n => n[prefix.Length..])
            .Select(n => (File: n, Stem: n.Split('.')[0]))
            .GroupBy(n => n.Stem)
            .Select(group =>
            {
                var specific = group.FirstOrDefault(n => n.File.EndsWith(dialect, StringComparison.Ordinal));
                var common = group.FirstOrDefault(n => n.File == n.Stem + ".sql");
                var chosen = specific.File ?? common.File;
                if (chosen is null)
                {
                    return null;
                }

                var underscore = group.Key.IndexOf('_');
                return new Migration(int.Parse(group.Key[..underscore]), group.Key[(underscore + 1)..], Read(assembly, prefix + chosen));
            })
            .OfType<Migration>()
            .OrderBy(m => m.Version)
            .ToList();
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// The campaign of the configuration's old form (<c>Campaign:Name</c>, else the only campaign): rows from before several
/// campaigns belong to it, and so do writes that name none (a signup without <c>campaign</c>).
/// </summary>
public sealed record StoreCampaign(string Name)
{
    public static readonly StoreCampaign Default = new("meta-ai-objection");
}
