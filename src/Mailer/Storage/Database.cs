using System.Data.Common;
using System.Runtime.CompilerServices;
using Mailer.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mailer.Storage;

/// <summary>
/// Opens connections to the configured store. SQL that differs between SQLite and PostgreSQL is chosen
/// here and in the provider-specific migration files; everything else is written once.
/// Times are stored as Unix milliseconds (BIGINT) in both, so the same queries and mappings serve both.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _npgsql;
    private readonly int _busyTimeoutMs;

    // SQLite lets one writer in at a time; the others sleep in its busy handler (1 to 100 ms a try), which is what
    // made a burst of signups slow at the tail. Writers of this process queue here instead and wake in turn.
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    // The pool hands out the same SQLite handles again; their settings outlive a return to the pool.
    private readonly ConditionalWeakTable<object, object> _configuredHandles = new();

    public Database(IOptions<StorageOptions> options, IOptions<MailerOptions> mailer, IHostEnvironment environment)
    {
        Provider = options.Value.Provider;
        _busyTimeoutMs = (int)options.Value.BusyTimeout.TotalMilliseconds;
        if (Provider == StorageProvider.PostgreSql)
        {
            // One pool per process for the store and, with Hangfire:Storage=PostgreSql, for the jobs too. The name
            // shows in pg_stat_activity, so an operator can tell Mailer's connections from others.
            var postgreSql = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
            if (string.IsNullOrEmpty(postgreSql.ApplicationName))
            {
                postgreSql.ApplicationName = "Mailer";
            }

            // The sender runs the same few statements a million times: prepared once per connection, the server stops
            // parsing and planning each (a 1M send went from 708 s to under 10 minutes). `Max Auto Prepare=0` in the
            // connection string turns it off, e.g. behind a pooler that cannot keep prepared statements.
            if (!SetsAutoPrepare(options.Value.ConnectionString))
            {
                postgreSql.MaxAutoPrepare = AutoPreparedStatements;
            }

            ConnectionString = postgreSql.ConnectionString;
            _npgsql = NpgsqlDataSource.Create(ConnectionString);
            return;
        }

        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString ?? "");
        if (string.IsNullOrEmpty(builder.DataSource))
        {
            var dataDirectory = ContentRoot.Combine(environment.ContentRootPath, mailer.Value.DataDirectory);
            builder.DataSource = Path.Combine(dataDirectory, "mailer.db");
        }
        else if (builder.DataSource != ":memory:" && !builder.DataSource.StartsWith("file:", StringComparison.Ordinal))
        {
            builder.DataSource = ContentRoot.Combine(environment.ContentRootPath, builder.DataSource);
        }

        var folder = Path.GetDirectoryName(builder.DataSource);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        builder.Pooling = true;
        builder.DefaultTimeout = Math.Max(1, _busyTimeoutMs / 1000);
        ConnectionString = builder.ToString();
    }

    /// <summary>Statements Npgsql prepares on each PostgreSQL connection unless the connection string says otherwise.</summary>
    internal const int AutoPreparedStatements = 32;

    public StorageProvider Provider { get; }

    public string ConnectionString { get; }

    public bool IsSqlite => Provider == StorageProvider.Sqlite;

    /// <summary>The PostgreSQL pool, for Hangfire's job storage in the same database.</summary>
    public NpgsqlDataSource NpgsqlDataSource =>
        _npgsql ?? throw new InvalidOperationException("Storage:Provider is not PostgreSql.");

    /// <summary>An open connection; SQLite connections wait for locks instead of failing at once.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_npgsql is not null)
        {
            return await _npgsql.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (connection.Handle is not { } handle || _configuredHandles.TryGetValue(handle, out _))
        {
            return connection;
        }

        await using var pragma = connection.CreateCommand();
        // 512 KB of page cache a connection instead of SQLite's 2 MB: the pool keeps several open, each would fill its
        // own cache from a large store, and the operating system caches the file for all of them anyway.
        pragma.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -512;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        _configuredHandles.AddOrUpdate(handle, handle);
        return connection;
    }

    /// <summary>
    /// Waits for this process's turn to write to SQLite; dispose the result after the commit. Writes that take it
    /// queue in order instead of polling SQLite's lock. Nothing to wait for with PostgreSQL, which locks rows.
    /// </summary>
    public async ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken = default)
    {
        if (!IsSqlite)
        {
            return null;
        }

        await _sqliteWriter.WaitAsync(cancellationToken);
        return new WriterTurn(_sqliteWriter);
    }

    public async ValueTask DisposeAsync()
    {
        if (_npgsql is not null)
        {
            await _npgsql.DisposeAsync();
        }
    }

    private static bool SetsAutoPrepare(string? connectionString) =>
        connectionString is not null && connectionString.Replace(" ", "", StringComparison.Ordinal).Contains("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase);

    private sealed class WriterTurn(SemaphoreSlim writer) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                writer.Release();
            }
        }
    }
}
