using System.Globalization;
using Dapper;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

/// <summary>
/// The circuit breaker: a mailing whose hard bounces pass <c>Bounces:PauseAbove</c> of its messages tried (counted after
/// its first <c>Bounces:PauseAfter</c>) pauses itself, since a list that bounces like that costs the sender's reputation
/// for every other mailing. The dispatcher checks every <c>Campaign:PollInterval</c>; the send jobs stop before their
/// next batch; <c>resume &lt;mailing&gt;</c> continues it and counts anew from that moment. The state is in
/// <c>campaign_state</c>, shared by every instance.
/// </summary>
public sealed class MailingBreaker(Database database, IOptions<BouncesOptions> options, ILogger<MailingBreaker> logger)
{
    private const string SelectState = "SELECT value FROM campaign_state WHERE name = @Name";

    private const string InsertState = "INSERT INTO campaign_state (name, value) VALUES (@Name, @Value) ON CONFLICT (name) DO NOTHING";

    private const string UpsertState = "INSERT INTO campaign_state (name, value) VALUES (@Name, @Value) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

    private const string DeleteState = "DELETE FROM campaign_state WHERE name = @Name";

    private const string CountTried = "SELECT COUNT(*) FROM deliveries WHERE campaign = @Campaign AND mailing = @Mailing AND status IN ('sent', 'failed')";

    private const string CountHard = """
        SELECT COUNT(DISTINCT b.delivery_id) FROM bounce_events b JOIN deliveries d ON d.id = b.delivery_id
        WHERE d.campaign = @Campaign AND d.mailing = @Mailing AND b.kind = 'hard'
        """;

    /// <summary>Why the mailing is paused (with since when), or null while it sends.</summary>
    public async Task<string?> PausedAsync(string mailing, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string>(SelectState, new { Name = PausedKey(mailing) });
    }

    /// <summary>Pauses the mailing when its hard bounces since the last resume pass the limit; true when it is paused (now or before).</summary>
    public async Task<bool> CheckAsync(string mailing, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await PausedAsync(mailing, cancellationToken) is not null)
        {
            return true;
        }

        var limit = options.Value.PauseAbove;
        if (limit <= 0)
        {
            return false;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var (tried, hard) = await CountsAsync(connection, mailing);
        var (baseTried, baseHard) = Parse(await connection.QuerySingleOrDefaultAsync<string>(SelectState, new { Name = BaseKey(mailing) }));
        var (newTried, newHard) = (tried - baseTried, hard - baseHard);
        if (newTried < options.Value.PauseAfter || (double)newHard / newTried <= limit)
        {
            return false;
        }

        var reason = string.Create(CultureInfo.InvariantCulture,
            $"{now:yyyy-MM-dd HH:mm:ss}Z: {newHard} hard bounces of {newTried} messages ({(double)newHard / newTried:P1}), above Bounces:PauseAbove {limit:P1}");
        using (await database.EnterWriteAsync(cancellationToken))
        {
            await connection.ExecuteAsync(InsertState, new { Name = PausedKey(mailing), Value = reason });
        }

        BouncesLog.MailingPaused(logger, mailing, newHard, newTried, limit);
        return true;
    }

    /// <summary>Continues a paused mailing; its bounces count anew from now. False when it was not paused.</summary>
    public async Task<bool> ResumeAsync(string mailing, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        var (tried, hard) = await CountsAsync(connection, mailing);
        await connection.ExecuteAsync(UpsertState, new { Name = BaseKey(mailing), Value = string.Create(CultureInfo.InvariantCulture, $"{tried}|{hard}") });
        return await connection.ExecuteAsync(DeleteState, new { Name = PausedKey(mailing) }) == 1;
    }

    /// <summary>Messages tried and hard bounces of the mailing <paramref name="mailing"/> (<c>campaign/mailing</c>).</summary>
    private static async Task<(long Tried, long Hard)> CountsAsync(System.Data.Common.DbConnection connection, string mailing)
    {
        var slash = mailing.IndexOf('/', StringComparison.Ordinal);
        var key = new { Campaign = slash < 0 ? "" : mailing[..slash], Mailing = mailing[(slash + 1)..] };
        return (await connection.ExecuteScalarAsync<long>(CountTried, key), await connection.ExecuteScalarAsync<long>(CountHard, key));
    }

    private static (long Tried, long Hard) Parse(string? value)
    {
        var parts = value?.Split('|');
        return parts is [var tried, var hard] && long.TryParse(tried, CultureInfo.InvariantCulture, out var t) && long.TryParse(hard, CultureInfo.InvariantCulture, out var h)
            ? (t, h)
            : (0, 0);
    }

    private static string PausedKey(string mailing) => "paused:" + mailing;

    private static string BaseKey(string mailing) => "breaker-base:" + mailing;
}
