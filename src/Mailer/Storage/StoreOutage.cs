using Microsoft.Data.Sqlite;
using Npgsql;

namespace Mailer.Storage;

/// <summary>
/// Tells the store being gone for a while from a statement that is wrong: PostgreSQL restarting or failing over (its
/// sessions ended, connections refused, "the database system is starting up"), the network to it down, SQLite's disk
/// full or failing. What was asked may succeed when asked again later, unchanged; a signup answers 503 with
/// <c>Retry-After</c>, a send job stops sending and waits to write down what it knows.
/// </summary>
public static class StoreOutage
{
    /// <summary>How long a request is told to wait (<c>Retry-After</c>): a restart takes seconds, freeing a disk longer.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>How often a job that waits for the store asks again.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private const int SqliteIoError = 10;   // SQLITE_IOERR and its extended codes (SQLITE_IOERR_WRITE, _FSYNC, ...)
    private const int SqliteFull = 13;      // SQLITE_FULL: the disk (or the file system's quota) is full

    public static bool Is(Exception exception) => exception switch
    {
        PostgresException postgres => IsOutage(postgres.SqlState),
        // No answer from the server at all: refused, reset, broken or timed out while connecting or reading.
        NpgsqlException => true,
        SqliteException sqlite => (sqlite.SqliteErrorCode & 0xff) is SqliteFull or SqliteIoError,
        _ => false,
    };

    /// <summary>The error's code for a log line (an SQLSTATE or SQLite's extended code), never its text.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState,
        SqliteException sqlite => $"SQLite {sqlite.SqliteExtendedErrorCode}",
        _ => exception.InnerException?.GetType().Name ?? "",
    };

    /// <summary>
    /// Class 08 (connection exception), 53 (insufficient resources: disk full, out of memory, too many connections),
    /// 57P01–57P03 (administrator or crash shutdown, cannot connect now) and 58 (system or I/O error).
    /// </summary>
    private static bool IsOutage(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("58", StringComparison.Ordinal)
        || sqlState is "57P01" or "57P02" or "57P03";
}
