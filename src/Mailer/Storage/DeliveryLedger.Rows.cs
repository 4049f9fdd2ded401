using Dapper;

namespace Mailer.Storage;

/// <summary>
/// Row creation: who a mailing is for, written as ledger rows. A mailing's first pass reads every subscriber; later passes
/// read only what changed since (<c>dispatch_marks</c>): those who became confirmed since the last pass
/// (<c>subscribers.confirm_mark</c>, see migration 010) and those held back then because another mail of theirs was
/// under way (<c>dispatch_held</c>). So a poll with nothing new costs a few index probes, whatever the list's size.
/// </summary>
public sealed partial class DeliveryLedger
{
    /// <summary>Subscribers read per statement; more changes than this since the last pass, and the pass reads the whole list.</summary>
    private const int CreateChunk = 50_000;

    // Who to look at: one id range of the whole list, or what changed since the mailing's last pass. MATERIALIZED keeps
    // SQLite from preferring the status index, which would walk every confirmed subscriber for each range.
    // Marks and held subscribers are kept per mailing of a campaign: @Key is campaign/mailing.
    private const string InRange = "SELECT id, status, confirmed_at FROM subscribers WHERE id > @From AND id <= @To AND campaign = @Campaign";

    private const string ChangedSinceMark = """
        SELECT id, status, confirmed_at FROM subscribers WHERE confirm_mark >= @Mark AND campaign = @Campaign
        UNION
        SELECT s.id, s.status, s.confirmed_at FROM dispatch_held h JOIN subscribers s ON s.id = h.subscriber_id WHERE h.mailing = @Key
        """;

    // The checks against the ledger are scalar subqueries, probed by index for each subscriber looked at: as NOT EXISTS,
    // PostgreSQL turns them into an anti join, and with statistics taken before a mailing's rows were written (it
    // believes there are none) it picked a nested loop over every row of that mailing for each subscriber: 30 s and a
    // timeout per range at a million.
    private const string MeantForMailingWithoutRow = """
        s.status = 'confirmed' AND s.confirmed_at < @ConfirmedBefore
          AND (SELECT 1 FROM deliveries d WHERE d.subscriber_id = s.id AND d.mailing = @Mailing LIMIT 1) IS NULL
        """;

    private const string NoOtherMailUnderWay = """
        (SELECT 1 FROM deliveries o WHERE o.subscriber_id = s.id AND o.status IN ('queued', 'sending') LIMIT 1) IS NULL
        """;

    private static readonly Candidates WholeList = new(InRange);

    private static readonly Candidates Changed = new(ChangedSinceMark);

    private const string SelectMark = "SELECT confirmed_before AS ConfirmedBefore, mark AS Mark FROM dispatch_marks WHERE mailing = @Key";

    // SQLite: one writer at a time, so every later commit stamps above the highest mark. PostgreSQL: every transaction
    // below the oldest one still running has ended, committed or not; one that commits later has a mark at or above it.
    private const string CurrentMarkSqlite = "SELECT COALESCE(MAX(confirm_mark), 0) + 1 FROM subscribers";

    private const string CurrentMarkPostgreSql = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

    private const string CountChanges = """
        SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM subscribers WHERE confirm_mark >= @Mark LIMIT @Limit) c) AS Confirmed,
               (SELECT COUNT(*) FROM (SELECT 1 FROM dispatch_held WHERE mailing = @Key LIMIT @Limit) h) AS Held
        """;

    // Held back and since then given the row, unconfirmed, or erased.
    private const string ReleaseHeld = $"""
        DELETE FROM dispatch_held
        WHERE mailing = @Key
          AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = dispatch_held.subscriber_id AND {MeantForMailingWithoutRow})
        """;

    // Passes may run side by side (instances): a mark only moves forward while the rule of who the mailing is for stays.
    private const string SaveMark = """
        INSERT INTO dispatch_marks (mailing, confirmed_before, mark) VALUES (@Key, @ConfirmedBefore, @Mark)
        ON CONFLICT (mailing) DO UPDATE SET
            mark = CASE WHEN dispatch_marks.confirmed_before = excluded.confirmed_before AND dispatch_marks.mark > excluded.mark
                        THEN dispatch_marks.mark ELSE excluded.mark END,
            confirmed_before = excluded.confirmed_before
        """;

    /// <summary>
    /// Writes the missing rows of <paramref name="mailing"/> for every confirmed subscriber confirmed before
    /// <paramref name="confirmedBefore"/> who has no other mail of the campaign under way (that one goes first; they are
    /// held back, and a later dispatch gives them the row once it has finished). Reads the whole list on the mailing's
    /// first pass, when <paramref name="confirmedBefore"/> changed, or when more than a range's worth changed; otherwise
    /// only what changed. The whole list goes in id ranges so no lock is held for long, and a range with nothing
    /// missing, as on most passes, takes no write lock at all. The unique key, not timing, decides between passes that
    /// run at once; a mark never passes a subscriber who was not looked at.
    /// </summary>
    public async Task<int> CreateRowsAsync(string campaign, string mailing, DateTimeOffset confirmedBefore, string status, string? reply,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Taken before anything is read: whatever commits after it is looked at again by the next pass.
        var mark = await connection.ExecuteScalarAsync<long>(database.IsSqlite ? CurrentMarkSqlite : CurrentMarkPostgreSql);
        var parameters = new RowParameters(campaign, mailing, status, reply, now.ToUnixTimeMilliseconds(), confirmedBefore.ToUnixTimeMilliseconds());
        var last = await connection.QuerySingleOrDefaultAsync<RowsMark>(SelectMark, new { parameters.Key });

        var created = 0;
        var anyHeld = true;
        var changes = last is not null && last.ConfirmedBefore == parameters.ConfirmedBefore
            ? await connection.QuerySingleAsync<Changes>(CountChanges, new { parameters.Key, last.Mark, Limit = CreateChunk + 1 })
            : null;
        if (changes is not null && changes.Confirmed + changes.Held <= CreateChunk)
        {
            anyHeld = changes.Held > 0;
            if (changes.Confirmed + changes.Held > 0)
            {
                created = await CreateAsync(connection, Changed, parameters with { Mark = last!.Mark });
            }
        }
        else
        {
            var maxId = await connection.ExecuteScalarAsync<long?>("SELECT MAX(id) FROM subscribers") ?? 0;
            for (long from = 0; from < maxId; from += CreateChunk)
            {
                created += await CreateAsync(connection, WholeList, parameters with { From = from, To = from + CreateChunk });
            }
        }

        if (anyHeld)
        {
            await connection.ExecuteAsync(ReleaseHeld, parameters);
        }

        if (last is null || last.Mark != mark || last.ConfirmedBefore != parameters.ConfirmedBefore)
        {
            await connection.ExecuteAsync(SaveMark, parameters with { Mark = mark });
        }

        return created;
    }

    /// <summary>Looks before it writes; then the rows, then those left without one, whatever the reason, as held back.</summary>
    private static async Task<int> CreateAsync(System.Data.Common.DbConnection connection, Candidates candidates, RowParameters parameters)
    {
        if (await connection.ExecuteScalarAsync<long>(candidates.AnyRowMissing, parameters) == 0)
        {
            return 0;
        }

        var created = await connection.ExecuteAsync(candidates.CreateMissingRows, parameters);
        await connection.ExecuteAsync(candidates.HoldBack, parameters);
        return created;
    }

    /// <summary>The statements of one way of choosing whom to look at.</summary>
    private sealed class Candidates(string chunk)
    {
        public string AnyRowMissing { get; } = $"""
            WITH chunk AS MATERIALIZED ({chunk})
            SELECT COUNT(*) FROM (SELECT 1 FROM chunk s WHERE {MeantForMailingWithoutRow} LIMIT 1) missing
            """;

        public string CreateMissingRows { get; } = $"""
            WITH chunk AS MATERIALIZED ({chunk})
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, last_reply)
            SELECT s.id, @Campaign, @Mailing, @Status, 0, @Now, @Now, @Now, @Reply
            FROM chunk s
            WHERE {MeantForMailingWithoutRow} AND {NoOtherMailUnderWay}
            ON CONFLICT (subscriber_id, mailing) DO NOTHING
            """;

        public string HoldBack { get; } = $"""
            WITH chunk AS MATERIALIZED ({chunk})
            INSERT INTO dispatch_held (mailing, subscriber_id)
            SELECT @Key, s.id FROM chunk s WHERE {MeantForMailingWithoutRow}
            ON CONFLICT (mailing, subscriber_id) DO NOTHING
            """;
    }

    private sealed record RowParameters(string Campaign, string Mailing, string Status, string? Reply, long Now, long ConfirmedBefore)
    {
        public string Key => $"{Campaign}/{Mailing}";

        public long Mark { get; init; }

        public long From { get; init; }

        public long To { get; init; }
    }

    private sealed class RowsMark
    {
        public long ConfirmedBefore { get; init; }

        public long Mark { get; init; }
    }

    private sealed class Changes
    {
        public long Confirmed { get; init; }

        public long Held { get; init; }
    }
}
