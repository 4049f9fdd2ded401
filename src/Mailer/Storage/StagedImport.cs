using Mailer.OperatorData;
using Mailer.Subscribers;
using Npgsql;
using NpgsqlTypes;

namespace Mailer.Storage;

/// <summary>
/// The PostgreSQL write of an import, in one transaction: the checked rows go by binary <c>COPY</c> into a
/// temporary table that lives until the commit, then one statement adds the new subscribers and their consents,
/// set-based. Row by row that was two round trips a row (1M rows: about 180 s). The outcome is the one of the
/// row-by-row write: in file order, the first row of an address wins, an address already known in whatever
/// state is left as it is and gets no consent, so running the same import again adds nothing. Nothing is
/// stored until <see cref="CommitAsync"/> returns; a failure or a cancellation before that leaves the store as it was.
/// </summary>
internal sealed class StagedImport : IAsyncDisposable
{
    // For this transaction only: the sorts and the join of a million rows fit in memory instead of spilling to disk,
    // and the planner's cost estimate for them, far above jit_above_cost, would compile the statement for about a
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

    // The first row of each address in file order (the sort only has to find equal addresses, so it sorts bytes,
    // several times cheaper than the database's collation), added in file order, so ids follow the file as they do
    // row by row. Addresses already known are skipped by an anti join, not by ON CONFLICT, whose speculative
    // insertion made the insert a third slower; RETURNING yields only the added ones, which get their consent. The
    // statement's row count is the number of subscribers added.
    internal const string InsertStagedSubscribersWithConsents = $"""
        WITH {FirstRows},
        added AS (
            INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at)
            SELECT @campaign, email, locale, platforms, 'confirmed', @created_at, consent_at
            FROM first_rows
            WHERE NOT EXISTS (SELECT 1 FROM subscribers known WHERE known.campaign = @campaign AND known.email = first_rows.email)
            ORDER BY line
            RETURNING id, email
        )
        {ConsentsOfAdded}
        """;

    // The same, for when a signup committed one of the file's addresses after the statement above began (it then
    // fails on the unique address and is rolled back to its savepoint): ON CONFLICT sees that row too.
    internal const string InsertStagedSubscribersWithConsentsOnConflict = $"""
        WITH {FirstRows},
        added AS (
            INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at)
            SELECT @campaign, email, locale, platforms, 'confirmed', @created_at, consent_at
            FROM first_rows
            ORDER BY line
            ON CONFLICT (campaign, email) DO NOTHING
            RETURNING id, email
        )
        {ConsentsOfAdded}
        """;

    private const string FirstRows = """
        first_rows AS MATERIALIZED (
            SELECT DISTINCT ON (email COLLATE "C") line, email, locale, platforms, consent_at, consent_source
            FROM import_rows
            ORDER BY email COLLATE "C", line
        )
        """;

    private const string ConsentsOfAdded = """
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at)
        SELECT added.id, 'import', first_rows.consent_source, first_rows.consent_at
        FROM added
        JOIN first_rows ON first_rows.email = added.email
        ORDER BY added.id
        """;

    private const string UniqueAddress = "subscribers_campaign_email_key";

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
    /// <summary>The campaign the rows are imported into (default: the guide's).</summary>
    public string Campaign { get; set; } = "meta-ai-objection";

    public async Task<long> CommitAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _copy.CompleteAsync(cancellationToken);
        await _copy.CloseAsync(cancellationToken);
        await _transaction.SaveAsync("staged", cancellationToken);
        long added;
        try
        {
            added = await InsertAsync(InsertStagedSubscribersWithConsents, now, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == UniqueAddress)
        {
            await _transaction.RollbackAsync("staged", cancellationToken);
            added = await InsertAsync(InsertStagedSubscribersWithConsentsOnConflict, now, cancellationToken);
        }

        await _transaction.CommitAsync(cancellationToken);
        return added;
    }

    private async Task<long> InsertAsync(string sql, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(sql, _connection, _transaction)
        {
            // A million rows on a loaded server take longer than the 30 s default of a command.
            CommandTimeout = 0,
        };
        insert.Parameters.AddWithValue("created_at", now.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("campaign", Campaign);
        return await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Cancels the copy and rolls everything back unless committed, and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _copy.DisposeAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
