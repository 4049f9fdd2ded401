using Mailer.Subscribers;
using Npgsql;
using NpgsqlTypes;

namespace Mailer.Storage;

/// <summary>
/// The PostgreSQL write of an import, in one transaction: the checked rows go by binary <c>COPY</c> into a
/// temporary table that lives until the commit, then one statement picks and numbers the rows to add and inserts
/// them as subscribers and their consents, set-based. Row by row that was two round trips a row (1M rows: about 180 s). The outcome is the one of the
/// row-by-row write: in file order, the first row of an address wins, an address already known in whatever
/// state is left as it is and gets no consent, so running the same import again adds nothing. Nothing is
/// stored until <see cref="CommitAsync"/> returns; a failure or a cancellation before that leaves the store as it was.
/// </summary>
internal sealed class StagedImport : IAsyncDisposable
{
    // For this transaction only: the sort of a million rows and the anti join fit in memory instead of spilling to disk,
    // and the planner's cost estimate for them, far above jit_above_cost, would compile the statements for about a
    // second of a loaded server's time to save less.
    internal const string TuneTransactionForLargeStatement = "SET LOCAL work_mem = '256MB'; SET LOCAL jit = off";

    // ON COMMIT DROP: the staging rows never outlive the import, and a rollback takes the table with it.
    internal const string CreateStagingTable = """
        CREATE TEMP TABLE import_rows (
            line BIGINT NOT NULL,
            email TEXT NOT NULL,
            locale TEXT NOT NULL,
            platforms TEXT NOT NULL,
            consent_at BIGINT NOT NULL,
            consent_source TEXT NOT NULL
        ) ON COMMIT DROP
        """;

    internal const string CopyIntoStagingTable = """
        COPY import_rows (line, email, locale, platforms, consent_at, consent_source) FROM STDIN (FORMAT BINARY)
        """;

    // The rows to add, numbered: the first row of each address in file order, unless the address is known in
    // whatever state (the sort only has to find equal addresses, so it sorts bytes, several times cheaper than the
    // database's collation). The ids are drawn here, in file order (nextval runs after the sort), as row by row, and
    // kept in memory (work_mem) for the two inserts that read them: no RETURNING of a million rows, no join of them
    // back to the file's rows by address, no second temporary table written out and read twice. Known addresses
    // are skipped by an anti join, not by ON CONFLICT, whose speculative insertion made the insert a third slower.
    private const string NumberedRows = """
        numbered AS MATERIALIZED (
            SELECT nextval((SELECT pg_get_serial_sequence('subscribers', 'id'))::regclass) AS id,
                   email, locale, platforms, consent_at, consent_source
            FROM (
                SELECT DISTINCT ON (email COLLATE "C") line, email, locale, platforms, consent_at, consent_source
                FROM import_rows
                WHERE NOT EXISTS (SELECT 1 FROM subscribers known WHERE known.email = import_rows.email)
                ORDER BY email COLLATE "C", line
            ) AS first_rows
            ORDER BY line
        )
        """;

    // Both inserts in one statement: a data-modifying WITH runs to completion before the foreign-key checks of the
    // consents, which come at the end of the statement. Rows come out of the CTE in id order (the primary key's
    // inserts stay on its rightmost page). The row count is that of the consents: one per subscriber added.
    internal const string InsertNumberedSubscribersWithConsents = $"""
        WITH {NumberedRows},
        added AS (
            INSERT INTO subscribers (id, email, locale, platforms, status, created_at, confirmed_at)
            SELECT id, email, locale, platforms, 'confirmed', @created_at, consent_at
            FROM numbered
        )
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at)
        SELECT id, 'import', consent_source, consent_at
        FROM numbered
        """;

    // For when a signup committed one of the file's addresses after the statement above began (it then fails on
    // the unique address and is rolled back to its savepoint): ON CONFLICT sees that row too, and only the
    // subscribers added get a consent.
    internal const string InsertNumberedSubscribersWithConsentsOnConflict = $"""
        WITH {NumberedRows},
        added AS (
            INSERT INTO subscribers (id, email, locale, platforms, status, created_at, confirmed_at)
            SELECT id, email, locale, platforms, 'confirmed', @created_at, consent_at
            FROM numbered
            ON CONFLICT (email) DO NOTHING
            RETURNING id
        )
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at)
        SELECT numbered.id, 'import', numbered.consent_source, numbered.consent_at
        FROM numbered
        JOIN added ON added.id = numbered.id
        ORDER BY numbered.id
        """;

    private const string UniqueAddress = "subscribers_email_key";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly NpgsqlBinaryImporter _copy;

    private StagedImport(NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlBinaryImporter copy)
    {
        _connection = connection;
        _transaction = transaction;
        _copy = copy;
    }

    /// <summary>Opens a connection, begins the transaction, creates the staging table and starts the copy.</summary>
    public static async Task<StagedImport> BeginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var sql in (string[])[TuneTransactionForLargeStatement, CreateStagingTable])
            {
                await using var command = new NpgsqlCommand(sql, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            var copy = await connection.BeginBinaryImportAsync(CopyIntoStagingTable, cancellationToken);
            return new StagedImport(connection, transaction, copy);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Copies one checked row (of file line <paramref name="line"/>) into the staging table.</summary>
    public async Task StageAsync(long line, SubscriberCsv.Row row, CancellationToken cancellationToken)
    {
        await _copy.StartRowAsync(cancellationToken);
        await _copy.WriteAsync(line, NpgsqlDbType.Bigint, cancellationToken);
        await _copy.WriteAsync(row.Email, NpgsqlDbType.Text, cancellationToken);
        await _copy.WriteAsync(row.Locale, NpgsqlDbType.Text, cancellationToken);
        await _copy.WriteAsync(row.Platforms, NpgsqlDbType.Text, cancellationToken);
        await _copy.WriteAsync(row.ConsentAt.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint, cancellationToken);
        await _copy.WriteAsync(row.ConsentSource, NpgsqlDbType.Text, cancellationToken);
    }

    /// <summary>Ends the copy, adds the staged rows and commits; returns how many subscribers were added.</summary>
    public async Task<long> CommitAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _copy.CompleteAsync(cancellationToken);
        await _copy.CloseAsync(cancellationToken);
        await _transaction.SaveAsync("staged", cancellationToken);
        long added;
        try
        {
            added = await ExecuteAsync(InsertNumberedSubscribersWithConsents, now, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == UniqueAddress)
        {
            await _transaction.RollbackAsync("staged", cancellationToken);
            added = await ExecuteAsync(InsertNumberedSubscribersWithConsentsOnConflict, now, cancellationToken);
        }

        await _transaction.CommitAsync(cancellationToken);
        return added;
    }

    private async Task<long> ExecuteAsync(string sql, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, _connection, _transaction)
        {
            // A million rows on a loaded server take longer than the 30 s default of a command.
            CommandTimeout = 0,
        };
        command.Parameters.AddWithValue("created_at", now.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Cancels the copy and rolls everything back unless committed, and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _copy.DisposeAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
