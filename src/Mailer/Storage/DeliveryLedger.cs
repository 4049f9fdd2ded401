using System.Data.Common;
using Dapper;

namespace Mailer.Storage;

/// <summary>A claimed ledger row with what the sender needs to know about its subscriber right now.</summary>
public sealed class ClaimedDelivery
{
    public long Id { get; init; }

    public long SubscriberId { get; init; }

    public string Campaign { get; init; } = "";

    public string Mailing { get; init; } = "";

    public int Attempts { get; init; }
}

/// <summary>What became of one claimed row, to be recorded in the ledger: <c>sent</c>, <c>failed</c>, <c>skipped</c> or back to <c>queued</c>.</summary>
public sealed record DeliveryOutcome(long Id, string Status, bool Attempted, DateTimeOffset At, string? Reply,
    string? MessageId = null, DateTimeOffset? NotBefore = null)
{
    public static DeliveryOutcome Sent(long id, DateTimeOffset at, string? messageId, string reply) => new(id, "sent", true, at, reply, messageId);

    /// <summary>Ends the row without a message: <c>failed</c> (with the server's reply) or <c>skipped</c> (with the reason).</summary>
    public static DeliveryOutcome Finished(long id, string status, bool attempted, DateTimeOffset at, string reply) => new(id, status, attempted, at, reply);

    /// <summary>Back to the queue, not before <paramref name="notBefore"/>; a null reply keeps the last one.</summary>
    public static DeliveryOutcome Requeued(long id, bool attempted, DateTimeOffset at, DateTimeOffset notBefore, string? reply) =>
        new(id, "queued", attempted, at, reply, NotBefore: notBefore);
}

/// <summary>The subscriber as the sender sees it at the moment of sending.</summary>
public sealed class SendingState
{
    public string Email { get; init; } = "";

    public string Locale { get; init; } = "";

    public string Platforms { get; init; } = "";

    public string DonePlatforms { get; init; } = "";

    public string Status { get; init; } = "";

    /// <summary>The last mail of this campaign but this mailing that went to the subscriber (the campaign's gap).</summary>
    public long? LastOtherSentAt { get; init; }

    /// <summary>The last mail of another campaign that went to the same address (the gap across campaigns).</summary>
    public long? LastElsewhereSentAt { get; init; }

    /// <summary>
    /// Rows of another campaign to the same address that a send job holds right now and that come first (a lower row id):
    /// two jobs each reading "nothing sent elsewhere yet" would otherwise both send inside the gap.
    /// </summary>
    public long ElsewhereInFlight { get; init; }

    /// <summary>Since when no mail goes to the address (a hard bounce, soft ones in a row); null while it does.</summary>
    public long? SuppressedAt { get; init; }

    public string? SuppressedReason { get; init; }
}

/// <summary>Counts of one mailing's ledger rows by status.</summary>
public sealed class MailingCounts
{
    public string Campaign { get; init; } = "";

    public string Mailing { get; init; } = "";

    public long Queued { get; init; }

    public long Sending { get; init; }

    public long Sent { get; init; }

    public long Failed { get; init; }

    public long Skipped { get; init; }

    public long Recipients => Queued + Sending + Sent + Failed + Skipped;
}

/// <summary>One row of a subscriber's history.</summary>
public sealed class DeliveryRecord
{
    public string Campaign { get; init; } = "";

    public string Mailing { get; init; } = "";

    public string Status { get; init; } = "";

    public int Attempts { get; init; }

    public long UpdatedAt { get; init; }

    public long? SentAt { get; init; }

    public string? MessageId { get; init; }

    public string? LastReply { get; init; }
}

/// <summary>
/// The delivery ledger: one row per subscriber and mailing, the truth about who got what. Rows are created in bulk
/// by the dispatcher (the unique key decides, never timing), claimed in batches under a lease, and each is recorded
/// the moment its message was accepted. All times are Unix milliseconds.
/// </summary>
public sealed partial class DeliveryLedger(Database database)
{
    // The outcomes of several send jobs' messages, arriving together, share a commit.
    private readonly GroupCommit<(string Owner, DeliveryOutcome Outcome), int> _records = new(database, (connection, transaction, record) =>
        connection.ExecuteAsync(RecordSql(record.Outcome), RecordParameters(record.Owner, record.Outcome), transaction));

    private const string MarkSent = """
        UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = @Now, updated_at = @Now,
               message_id = @MessageId, last_reply = @Reply, lease_owner = NULL, lease_until = NULL
        WHERE id = @Id AND lease_owner = @Owner AND status = 'sending'
        """;

    private const string MarkFinished = """
        UPDATE deliveries SET status = @Status, attempts = attempts + @Attempted, updated_at = @Now, last_reply = @Reply,
               lease_owner = NULL, lease_until = NULL
        WHERE id = @Id AND lease_owner = @Owner AND status = 'sending'
        """;

    private const string Requeue = """
        UPDATE deliveries SET status = 'queued', attempts = attempts + @Attempted, updated_at = @Now, not_before = @NotBefore,
               last_reply = COALESCE(@Reply, last_reply), lease_owner = NULL, lease_until = NULL
        WHERE id = @Id AND lease_owner = @Owner AND status = 'sending'
        """;

    /// <summary>The campaign's first start, recorded once; every later call returns the same moment.</summary>
    public async Task<DateTimeOffset> LaunchAsync(string campaign, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var name = "launched_at:" + campaign;
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            INSERT INTO campaign_state (name, value) VALUES (@Name, @Value)
            ON CONFLICT (name) DO NOTHING
            """,
            new { Name = name, Value = now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var value = await connection.QuerySingleAsync<string>("SELECT value FROM campaign_state WHERE name = @Name", new { Name = name });
        return DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Rows of <paramref name="mailing"/> that a batch job could claim now (queued and due, or leased by a job that is
    /// gone), counted up to <paramref name="atMost"/>: the dispatcher only needs to know how many jobs to start.
    /// </summary>
    public async Task<long> CountClaimableAsync(string campaign, string mailing, DateTimeOffset now, long atMost, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(
            """
            SELECT COUNT(*) FROM (
                SELECT id FROM deliveries WHERE campaign = @Campaign AND mailing = @Mailing AND status = 'queued' AND not_before <= @Now
                UNION ALL
                SELECT id FROM deliveries WHERE campaign = @Campaign AND mailing = @Mailing AND status = 'sending' AND lease_until < @Now
                LIMIT @AtMost) claimable
            """,
            new { Campaign = campaign, Mailing = mailing, Now = now.ToUnixTimeMilliseconds(), AtMost = atMost });
    }

    /// <summary>
    /// Leases up to <paramref name="count"/> rows of <paramref name="mailing"/> to <paramref name="owner"/>: first rows
    /// whose lease ran out (their job died), then queued ones, longest due first. The order follows the work index
    /// (mailing, status, not_before), so a claim reads only the rows it takes, however long the queue; nothing after
    /// not_before, not even the id: PostgreSQL's index does not carry it, and it sorted every queued row of the mailing
    /// on disk for each claim (1.4 s a claim at a million, 54 ms without). On PostgreSQL concurrent claims skip each
    /// other's rows.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string campaign, string mailing, string owner, int count, DateTimeOffset now,
        DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var skipLocked = database.IsSqlite ? "" : "FOR UPDATE SKIP LOCKED";
        var parameters = new
        {
            Campaign = campaign,
            Mailing = mailing,
            Owner = owner,
            Count = count,
            Now = now.ToUnixTimeMilliseconds(),
            LeaseUntil = leaseUntil.ToUnixTimeMilliseconds(),
        };

        await using var connection = await database.OpenAsync(cancellationToken);
        var claimed = (await connection.QueryAsync<ClaimedDelivery>(
            $"""
            UPDATE deliveries SET lease_owner = @Owner, lease_until = @LeaseUntil, updated_at = @Now
            WHERE id IN (SELECT id FROM deliveries
                         WHERE campaign = @Campaign AND mailing = @Mailing AND status = 'sending' AND lease_until < @Now
                         ORDER BY id LIMIT @Count {skipLocked})
            RETURNING id AS Id, subscriber_id AS SubscriberId, campaign AS Campaign, mailing AS Mailing, attempts AS Attempts
            """, parameters)).ToList();

        if (claimed.Count < count)
        {
            claimed.AddRange(await connection.QueryAsync<ClaimedDelivery>(
                $"""
                UPDATE deliveries SET status = 'sending', lease_owner = @Owner, lease_until = @LeaseUntil, updated_at = @Now
                WHERE id IN (SELECT id FROM deliveries
                             WHERE campaign = @Campaign AND mailing = @Mailing AND status = 'queued' AND not_before <= @Now
                             ORDER BY not_before LIMIT @Count {skipLocked})
                RETURNING id AS Id, subscriber_id AS SubscriberId, campaign AS Campaign, mailing AS Mailing, attempts AS Attempts
                """, new { parameters.Campaign, parameters.Mailing, parameters.Owner, Count = count - claimed.Count, parameters.Now, parameters.LeaseUntil }));
        }

        return claimed.OrderBy(c => c.Id).ToList();
    }

    /// <summary>The subscriber behind a row as it is now (unsubscribes and done marks count at send time); null once erased.</summary>
    public Task<SendingState?> SendingStateAsync(DbConnection connection, ClaimedDelivery row) =>
        connection.QuerySingleOrDefaultAsync<SendingState>(
            """
            SELECT s.email AS Email, s.locale AS Locale, s.platforms AS Platforms,
                   s.done_platforms AS DonePlatforms, s.status AS Status,
                   s.suppressed_at AS SuppressedAt, s.suppressed_reason AS SuppressedReason,
                   (SELECT MAX(o.sent_at) FROM deliveries o WHERE o.subscriber_id = s.id AND o.mailing <> @Mailing) AS LastOtherSentAt,
                   (SELECT MAX(e.sent_at) FROM subscribers p JOIN deliveries e ON e.subscriber_id = p.id
                    WHERE p.email = s.email AND p.id <> s.id) AS LastElsewhereSentAt,
                   (SELECT COUNT(*) FROM subscribers p JOIN deliveries e ON e.subscriber_id = p.id
                    WHERE p.email = s.email AND p.id <> s.id AND e.status = 'sending' AND e.id < @Id) AS ElsewhereInFlight
            FROM subscribers s WHERE s.id = @SubscriberId
            """,
            new { row.Id, row.SubscriberId, row.Mailing });

    /// <summary>
    /// Records one message's outcome while its lease is still <paramref name="owner"/>'s, committed before this returns.
    /// 1 if recorded, 0 if the lease was lost. On SQLite in one transaction with the outcomes other send jobs record at the
    /// same moment; on PostgreSQL one statement on the job's own <paramref name="connection"/>, which commits by itself in
    /// one round trip (PostgreSQL lets the jobs commit side by side).
    /// </summary>
    public Task<int> RecordAsync(DbConnection connection, string owner, DeliveryOutcome outcome) =>
        database.IsSqlite
            ? _records.WriteAsync((owner, outcome), CancellationToken.None)
            : connection.ExecuteAsync(RecordSql(outcome), RecordParameters(owner, outcome));

    /// <summary>
    /// Records outcomes, several in one transaction; each row only while its lease is still <paramref name="owner"/>'s
    /// (a row whose lease ran out and was claimed again is the new owner's to record). Returns how many rows were recorded.
    /// </summary>
    public async Task<int> RecordAsync(DbConnection connection, string owner, IReadOnlyCollection<DeliveryOutcome> outcomes)
    {
        using var turn = await database.EnterWriteAsync();
        if (outcomes.Count <= 1)
        {
            // One statement commits on its own.
            return outcomes.Count == 0 ? 0 : await connection.ExecuteAsync(RecordSql(outcomes.First()), RecordParameters(owner, outcomes.First()));
        }

        var recorded = 0;
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var outcome in outcomes)
        {
            recorded += await connection.ExecuteAsync(RecordSql(outcome), RecordParameters(owner, outcome), transaction);
        }

        await transaction.CommitAsync();
        return recorded;
    }

    private static string RecordSql(DeliveryOutcome outcome) => outcome.Status switch
    {
        "sent" => MarkSent,
        "queued" => Requeue,
        _ => MarkFinished,
    };

    private static object RecordParameters(string owner, DeliveryOutcome outcome) => new
    {
        outcome.Id,
        Owner = owner,
        outcome.Status,
        Attempted = outcome.Attempted ? 1 : 0,
        Now = outcome.At.ToUnixTimeMilliseconds(),
        NotBefore = outcome.NotBefore?.ToUnixTimeMilliseconds(),
        outcome.MessageId,
        Reply = outcome.Reply is null ? null : Trim(outcome.Reply),
    };

    /// <summary>
    /// Extends the lease of the rows <paramref name="ids"/> that are still <paramref name="owner"/>'s; returns how many
    /// those are: fewer than asked means another job took some back.
    /// </summary>
    public async Task<int> RenewLeaseAsync(string owner, long[] ids, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var until = leaseUntil.ToUnixTimeMilliseconds();
        // One parameter for the whole list, however long the batch: an array on PostgreSQL, JSON on SQLite.
        return database.IsSqlite
            ? await connection.ExecuteAsync(RenewLeaseSqlite, new { Owner = owner, Ids = System.Text.Json.JsonSerializer.Serialize(ids), LeaseUntil = until })
            : await connection.ExecuteAsync(RenewLeasePostgreSql, new { Owner = owner, Ids = ids, LeaseUntil = until });
    }

    private const string RenewLeaseSqlite = """
        UPDATE deliveries SET lease_until = @LeaseUntil
        WHERE id IN (SELECT value FROM json_each(@Ids)) AND lease_owner = @Owner AND status = 'sending'
        """;

    private const string RenewLeasePostgreSql = """
        UPDATE deliveries SET lease_until = @LeaseUntil
        WHERE id = ANY(@Ids) AND lease_owner = @Owner AND status = 'sending'
        """;

    /// <summary>Marks every row of a mailing whose moment has passed as skipped, with the reason.</summary>
    public async Task<int> SkipUnsentAsync(string campaign, string mailing, DateTimeOffset now, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            """
            UPDATE deliveries SET status = 'skipped', updated_at = @Now, last_reply = @Reason, lease_owner = NULL, lease_until = NULL
            WHERE campaign = @Campaign AND mailing = @Mailing AND status IN ('queued', 'sending') AND (status = 'queued' OR lease_until < @Now)
            """,
            new { Campaign = campaign, Mailing = mailing, Now = now.ToUnixTimeMilliseconds(), Reason = reason });
    }

    public async Task<IReadOnlyList<MailingCounts>> CountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<MailingCounts>(
            """
            SELECT campaign AS Campaign, mailing AS Mailing,
                   SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END) AS Queued,
                   SUM(CASE WHEN status = 'sending' THEN 1 ELSE 0 END) AS Sending,
                   SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS Sent,
                   SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS Failed,
                   SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS Skipped
            FROM deliveries GROUP BY campaign, mailing
            """)).ToList();
    }

    public async Task<IReadOnlyList<DeliveryRecord>> HistoryAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<DeliveryRecord>(
            """
            SELECT campaign AS Campaign, mailing AS Mailing, status AS Status, attempts AS Attempts, updated_at AS UpdatedAt, sent_at AS SentAt,
                   message_id AS MessageId, last_reply AS LastReply
            FROM deliveries WHERE subscriber_id = @SubscriberId ORDER BY created_at, id
            """,
            new { SubscriberId = subscriberId })).ToList();
    }

    /// <summary>The campaign's subscriber with this (normalized) address, for the operators' timeline.</summary>
    public async Task<SubscriberSnapshot?> SubscriberAsync(string campaign, string normalizedEmail, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<SubscriberSnapshot>(
            """
            SELECT id AS Id, status AS Status, platforms AS Platforms, done_platforms AS DonePlatforms, created_at AS CreatedAt,
                   confirmed_at AS ConfirmedAt, unsubscribed_at AS UnsubscribedAt
            FROM subscribers WHERE campaign = @Campaign AND email = @Email
            """,
            new { Campaign = campaign, Email = normalizedEmail });
    }

    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => database.OpenAsync(cancellationToken);

    private static string Trim(string reply) => reply.Length <= 500 ? reply : reply[..500];
}

/// <summary>What the timeline needs to know of one subscriber.</summary>
public sealed class SubscriberSnapshot
{
    public long Id { get; init; }

    public string Status { get; init; } = "";

    public string Platforms { get; init; } = "";

    public string DonePlatforms { get; init; } = "";

    public long CreatedAt { get; init; }

    public long? ConfirmedAt { get; init; }

    public long? UnsubscribedAt { get; init; }
}
