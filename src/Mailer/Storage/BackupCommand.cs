using System.Globalization;
using Mailer.Cli;
using Microsoft.Data.Sqlite;

namespace Mailer.Storage;

/// <summary>
/// <c>backup FILE</c>: a consistent copy of the SQLite store, taken while the service runs. SQLite's online backup
/// copies the pages of one read transaction (in WAL mode the service's writers go on meanwhile), so the copy is the
/// store at one moment, never half a signup. It is written under a temporary name beside <c>FILE</c>, checked with
/// <c>PRAGMA integrity_check</c>, switched to a single file (no <c>-wal</c> beside it) and then renamed: <c>FILE</c>
/// either is a whole backup or does not exist. An existing <c>FILE</c> is refused, never overwritten. On PostgreSQL
/// the command refuses and points at <c>pg_dump</c>, the server's own consistent dump.
/// </summary>
public sealed class BackupCommand(Database database) : IOperatorCommand
{
    public string Verb => "backup";

    public string Usage => "backup FILE     a consistent copy of the SQLite store, also while the service runs";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var target = Path.GetFullPath(arguments.Required(0, "FILE"));
        arguments.EnsureNoOthers(1);
        if (!database.IsSqlite)
        {
            await output.WriteLineAsync("backup copies the SQLite store; with Storage:Provider=PostgreSql use the server's tools: "
                + "pg_dump -Fc -f mailer.dump DATABASE (restore with pg_restore -d DATABASE mailer.dump).");
            return 1;
        }

        if (File.Exists(target) || Directory.Exists(target))
        {
            await output.WriteLineAsync($"{target} exists; backup never overwrites. Choose a new file name.");
            return 1;
        }

        var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var subscribers = await CopyAsync(temporary, cancellationToken);
            File.Move(temporary, target, overwrite: false);
            var size = new FileInfo(target).Length / (1024.0 * 1024.0);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"backed up {subscribers} subscribers to {target} ({size:0.0} MB, integrity ok)"));
            return 0;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Copies the store into <paramref name="file"/>, checks it and returns its number of subscribers.</summary>
    private async Task<long> CopyAsync(string file, CancellationToken cancellationToken)
    {
        await using (var source = (SqliteConnection)await database.OpenAsync(cancellationToken))
        await using (var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString()))
        {
            await copy.OpenAsync(cancellationToken);
            // One step over all pages (sqlite3_backup_step(-1)): one read transaction, so one moment of the store.
            source.BackupDatabase(copy);
            var check = await ScalarAsync(copy, "PRAGMA integrity_check", cancellationToken);
            if (check is not "ok")
            {
                throw new InvalidOperationException($"The copy failed its integrity check ({check}); nothing was written to the backup file.");
            }

            await ScalarAsync(copy, "PRAGMA journal_mode = DELETE", cancellationToken);
            return Convert.ToInt64(await ScalarAsync(copy, "SELECT COUNT(*) FROM subscribers", cancellationToken), CultureInfo.InvariantCulture);
        }
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}
