using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Mailer.Cli;
using Mailer.Storage;

namespace Mailer.OperatorData;

/// <summary>
/// The SQL behind the operators' data commands (<c>import</c>, <c>export</c>, <c>erase</c>), written once for
/// SQLite and PostgreSQL.
/// </summary>
public static class OperatorDataCommands
{
    // An imported address that is already known, in whatever state, stays as it is: RETURNING yields no row.
    internal const string InsertImportedSubscriber = """
        INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at)
        VALUES (@campaign, @email, @locale, @platforms, 'confirmed', @created_at, @confirmed_at)
        ON CONFLICT (campaign, email) DO NOTHING
        RETURNING id
        """;

    internal const string InsertImportConsent = """
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at)
        VALUES (@subscriber_id, 'import', @consent_text_version, @given_at)
        """;

    // One line per consent, subscribers without one included; the order keeps a subscriber's lines together.
    internal const string ExportSubscribersWithConsents = """
        SELECT s.id AS SubscriberId, s.email AS Email, s.locale AS Locale, s.platforms AS Platforms,
               s.done_platforms AS DonePlatforms, s.status AS Status, s.created_at AS CreatedAt,
               s.confirmed_at AS ConfirmedAt, s.unsubscribed_at AS UnsubscribedAt,
               c.source AS ConsentSource, c.consent_text_version AS ConsentTextVersion, c.given_at AS ConsentGivenAt,
               c.client_ip AS ClientIp, c.user_agent AS UserAgent, c.confirmed_at AS ConsentConfirmedAt,
               c.confirm_ip AS ConfirmIp, s.suppressed_at AS SuppressedAt, s.suppressed_reason AS SuppressedReason,
               s.campaign AS Campaign, COALESCE(c.purpose, '') AS ConsentPurpose
        FROM subscribers s
        LEFT JOIN consents c ON c.subscriber_id = s.id
        ORDER BY s.id, c.id
        """;

    // What came back for each subscriber's mail, oldest first; few rows next to the subscribers, read whole before the export.
    internal const string ExportBounceEvents = """
        SELECT subscriber_id AS SubscriberId, kind AS Kind, source AS Source, status AS Status, diagnostic AS Diagnostic, received_at AS ReceivedAt
        FROM bounce_events ORDER BY subscriber_id, received_at, id
        """;

    internal sealed record ExportBounce(long SubscriberId, string Kind, string Source, string? Status, string? Diagnostic, long ReceivedAt);

    // A person may be in several campaigns: a subscription each, all erased together.
    internal const string FindSubscriberByEmail = "SELECT id FROM subscribers WHERE email = @email ORDER BY id";

    // Explicit deletes (not only ON DELETE CASCADE), children first, so the erasure does not depend on
    // foreign key enforcement being on and the counts can be reported.
    internal const string DeleteBounceEvents = "DELETE FROM bounce_events WHERE subscriber_id = @id";
    internal const string DeleteDeliveries = "DELETE FROM deliveries WHERE subscriber_id = @id";
    internal const string DeleteLinkEvents = "DELETE FROM link_events WHERE subscriber_id = @id";
    internal const string DeleteConsents = "DELETE FROM consents WHERE subscriber_id = @id";
    internal const string DeleteSubscriber = "DELETE FROM subscribers WHERE id = @id";

    /// <summary>One line of the export: a subscriber and one of their consents (or none).</summary>
    internal sealed record ExportRow(
        long SubscriberId, string Email, string Locale, string Platforms, string DonePlatforms, string Status,
        long CreatedAt, long? ConfirmedAt, long? UnsubscribedAt,
        string? ConsentSource, string? ConsentTextVersion, long? ConsentGivenAt,
        string? ClientIp, string? UserAgent, long? ConsentConfirmedAt, string? ConfirmIp, long? SuppressedAt, string? SuppressedReason,
        string Campaign, string ConsentPurpose);

    /// <summary>What an erasure removed.</summary>
    internal sealed record Erased(int Consents, int LinkEvents, int Deliveries);

    /// <summary>Removes the subscriber with this (normalized) address and everything recorded about them, in one transaction.</summary>
    internal static async Task<Erased?> EraseAsync(Database database, string email, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = (await connection.QueryAsync<long>(FindSubscriberByEmail, new { email }, transaction)).ToList();
        if (ids.Count == 0)
        {
            return null;
        }

        var erased = new Erased(0, 0, 0);
        foreach (var id in ids)
        {
            // What came back for their mail (a DSN's diagnostic often names the address) goes first, with the rest.
            await connection.ExecuteAsync(DeleteBounceEvents, new { id }, transaction);
            erased = new Erased(
                Deliveries: erased.Deliveries + await connection.ExecuteAsync(DeleteDeliveries, new { id }, transaction),
                LinkEvents: erased.LinkEvents + await connection.ExecuteAsync(DeleteLinkEvents, new { id }, transaction),
                Consents: erased.Consents + await connection.ExecuteAsync(DeleteConsents, new { id }, transaction));
            await connection.ExecuteAsync(DeleteSubscriber, new { id }, transaction);
        }

        await transaction.CommitAsync(cancellationToken);
        return erased;
    }

    /// <summary>
    /// Writes imported rows through two prepared statements reused for every row, in transactions of a batch
    /// of rows: a subscriber and their consent are always committed together. On SQLite, where one writer at
    /// a time holds the file, the writer pauses after each batch so the running service's writers, which
    /// retry every 100 ms at most while they wait, get their turn instead of starving until the import ends.
    /// </summary>
    internal sealed class ImportWriter : IAsyncDisposable
    {
        private readonly DbConnection _connection;
        private readonly DbCommand _subscriber;
        private readonly DbCommand _consent;
        private readonly int _batchSize;
        private readonly TimeSpan _pause;
        private DbTransaction? _transaction;
        private int _pendingRows;
        private int _pendingStored;

        private ImportWriter(DbConnection connection, string campaign, long createdAt, int batchSize, TimeSpan pause)
        {
            _connection = connection;
            _batchSize = batchSize;
            _pause = pause;
            _subscriber = Command(InsertImportedSubscriber,
                ("campaign", DbType.String), ("email", DbType.String), ("locale", DbType.String), ("platforms", DbType.String),
                ("created_at", DbType.Int64), ("confirmed_at", DbType.Int64));
            _subscriber.Parameters["created_at"].Value = createdAt;
            _subscriber.Parameters["campaign"].Value = campaign;
            _consent = Command(InsertImportConsent,
                ("subscriber_id", DbType.Int64), ("consent_text_version", DbType.String), ("given_at", DbType.Int64));
        }

        /// <summary>Rows added and committed.</summary>
        public long Stored { get; private set; }

        public static async Task<ImportWriter> OpenAsync(
            Database database, string campaign, DateTimeOffset now, int batchSize, TimeSpan pauseBetweenBatches, CancellationToken cancellationToken)
        {
            var connection = await database.OpenAsync(cancellationToken);
            if (database.IsSqlite)
            {
                // A large import inserts into index pages all over the file; with SQLite's default 2 MB page cache
                // that is I/O-bound (1M rows: 36 s; with 64 MB: 25 s). This connection only, freed when it closes.
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA cache_size = -65536";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            var pause = database.IsSqlite ? pauseBetweenBatches : TimeSpan.Zero;
            var writer = new ImportWriter(connection, campaign, now.ToUnixTimeMilliseconds(), batchSize, pause);
            await writer._subscriber.PrepareAsync(cancellationToken);
            await writer._consent.PrepareAsync(cancellationToken);
            return writer;
        }

        /// <summary>True when the row was added; false when its address is already known.</summary>
        public async Task<bool> AddAsync(SubscriberCsv.Row row, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_transaction is null)
            {
                // Begun with the first row of a batch, not right after the last commit: between batches the
                // store is free for others.
                _transaction = await _connection.BeginTransactionAsync(cancellationToken);
                _subscriber.Transaction = _transaction;
                _consent.Transaction = _transaction;
            }

            var consentAt = row.ConsentAt.ToUnixTimeMilliseconds();
            _subscriber.Parameters["email"].Value = row.Email;
            _subscriber.Parameters["locale"].Value = row.Locale;
            _subscriber.Parameters["platforms"].Value = row.Platforms;
            _subscriber.Parameters["confirmed_at"].Value = consentAt;
            var id = await _subscriber.ExecuteScalarAsync(cancellationToken);
            var added = id is not (null or DBNull);
            if (added)
            {
                _consent.Parameters["subscriber_id"].Value = Convert.ToInt64(id, CultureInfo.InvariantCulture);
                _consent.Parameters["consent_text_version"].Value = row.ConsentSource;
                _consent.Parameters["given_at"].Value = consentAt;
                await _consent.ExecuteNonQueryAsync(cancellationToken);
                _pendingStored++;
            }

            if (++_pendingRows >= _batchSize)
            {
                await CommitAsync(cancellationToken);
                if (_pause > TimeSpan.Zero)
                {
                    await Task.Delay(_pause, cancellationToken);
                }
            }

            return added;
        }

        /// <summary>Commits what was added so far; the next row starts the next batch.</summary>
        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            if (_transaction is null)
            {
                return;
            }

            await _transaction.CommitAsync(cancellationToken);
            Stored += _pendingStored;
            (_pendingRows, _pendingStored) = (0, 0);
            await _transaction.DisposeAsync();
            _transaction = null;
        }

        /// <summary>Rolls back the rows added since the last commit (unless committed) and closes the connection.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_transaction is not null)
            {
                await _transaction.DisposeAsync();
            }

            await _subscriber.DisposeAsync();
            await _consent.DisposeAsync();
            await _connection.DisposeAsync();
        }

        private DbCommand Command(string sql, params (string Name, DbType Type)[] parameters)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, type) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.DbType = type;
                command.Parameters.Add(parameter);
            }

            return command;
        }
    }
}
