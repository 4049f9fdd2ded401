using Dapper;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Mailer.Storage;
using Npgsql;

namespace Mailer.Campaigns;

/// <summary>
/// Where Hangfire keeps its jobs. <c>InMemory</c>: in this process; a restart loses the list, not the work, because the
/// ledger is the truth and the dispatcher rebuilds the jobs from it. <c>PostgreSql</c>: in the store's database, schema
/// <c>Hangfire:Schema</c>, so the workers of every instance take jobs from one queue (<c>FOR UPDATE SKIP LOCKED</c>), the
/// recurring dispatcher runs once per tick in the whole cluster, and a killed instance's jobs go to the others.
/// </summary>
internal static class HangfireStorage
{
    /// <summary>Another advisory lock than the schema migrator's: Hangfire installs its own tables.</summary>
    private const long InstallLock = 7316002;

    /// <summary>When a Hangfire lock left behind is taken back: long beyond any scheduler's run, short beside an outage.</summary>
    internal static readonly TimeSpan LockExpiry = TimeSpan.FromMinutes(1);

    public static JobStorage Create(HangfireOptions options, Database database)
    {
        if (options.Storage == HangfireStorageKind.InMemory)
        {
            // Finished jobs stay for Hangfire:InMemoryHistory, not Hangfire's day: memory is what this storage costs.
            return new InMemoryStorage(new InMemoryStorageOptions { IdType = InMemoryStorageIdType.Long, MaxExpirationTime = options.InMemoryHistory });
        }

        var storage = new PostgreSqlStorageOptions
        {
            SchemaName = options.Schema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = options.QueuePollInterval,
            InvisibilityTimeout = options.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
            // Hangfire's locks are rows; one whose session a PostgreSQL restart ended stays behind, and the recurring
            // dispatcher waits for it to expire (10 minutes by default). Its holders keep it for a scheduler's run.
            DistributedLockTimeout = LockExpiry,
        };

        // Instances that start together would install the tables at the same time; they take turns instead.
        using var connection = database.NpgsqlDataSource.OpenConnection();
        connection.Execute("SELECT pg_advisory_lock(@InstallLock)", new { InstallLock });
        try
        {
            return new PostgreSqlStorage(new DataSourceConnections(database.NpgsqlDataSource), storage);
        }
        finally
        {
            connection.Execute("SELECT pg_advisory_unlock(@InstallLock)", new { InstallLock });
        }
    }

    /// <summary>Hangfire's connections come from the store's pool: one pool, one limit per process.</summary>
    private sealed class DataSourceConnections(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
