using Dapper;
using Hangfire;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Subscribers;

/// <summary>
/// Keeps personal data no longer than it serves (GDPR Art. 5(1)(e)): an address that never confirmed is deleted once the
/// last link it could have confirmed with has been expired for a day, that is <c>Subscribers:ConfirmWithin</c> plus
/// <see cref="Grace"/> after its last signup and after its last confirmation mail (a mail sent late carries a link that
/// holds from its sending). Its consents, link events and ledger rows go with it through the schema's
/// <c>ON DELETE CASCADE</c>, in the same statement. Nobody who ever confirmed is deleted: not a confirmed or unsubscribed
/// subscriber, and not a pending one who confirmed before (a consent confirmed or withdrawn, an imported consent, a
/// ledger row). Link events older than <c>Subscribers:KeepLinkEventsFor</c> lose the client's address and user agent;
/// the event itself (what, which platform, when) stays. Runs every hour (<see cref="RetentionScheduler"/>); safe to run twice and on every instance at once:
/// each run deletes what is due at its moment, one conditional statement per batch, and a second run finds nothing.
/// </summary>
public sealed class RetentionJob(Database database, IOptions<SubscribersOptions> options, TimeProvider time, ILogger<RetentionJob> logger)
{
    public const string RecurringId = "retention";

    /// <summary>How long after the last link expired an address that never confirmed is kept: one day.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    /// <summary>Subscribers one statement deletes; a run repeats until fewer are left.</summary>
    internal const int BatchSize = 500;

    private const string NeverConfirmedAndExpired = """
        status = 'pending' AND confirmed_at IS NULL
          AND created_at < @Before
          AND (confirm_requested_at IS NULL OR confirm_requested_at < @Before)
          AND (confirm_sent_at IS NULL OR confirm_sent_at < @Before)
          AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.subscriber_id = subscribers.id
                          AND (c.confirmed_at IS NOT NULL OR c.withdrawn_at IS NOT NULL OR c.source = 'import'))
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = subscribers.id)
        """;

    private const string StripOldLinkEventClients = """
        UPDATE link_events SET client_ip = NULL, user_agent = NULL
        WHERE id IN (SELECT id FROM link_events WHERE at < @Before AND (client_ip IS NOT NULL OR user_agent IS NOT NULL)
                     ORDER BY id LIMIT @Max)
        """;

    // The condition again outside the sub-select: on PostgreSQL a row changed meanwhile (a new signup) is checked anew.
    private const string DeleteNeverConfirmed = $"""
        DELETE FROM subscribers
        WHERE id IN (SELECT id FROM subscribers WHERE {NeverConfirmedAndExpired} ORDER BY id LIMIT @Max)
          AND {NeverConfirmedAndExpired}
        """;

    /// <summary>Deletes the addresses that never confirmed and are due, and strips the old link events; returns what it did.</summary>
    [Queue("dispatch")]
    [AutomaticRetry(Attempts = 0)]
    public async Task<RetentionRun> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var deleted = await InBatchesAsync(DeleteNeverConfirmed, now - options.Value.ConfirmWithin - Grace, cancellationToken);
        if (deleted > 0)
        {
            SubscribersLog.NeverConfirmedDeleted(logger, deleted);
        }

        var stripped = await InBatchesAsync(StripOldLinkEventClients, now - options.Value.KeepLinkEventsFor, cancellationToken);
        if (stripped > 0)
        {
            SubscribersLog.LinkEventClientsRemoved(logger, stripped);
        }

        return new RetentionRun(deleted, stripped);
    }

    private async Task<int> InBatchesAsync(string sql, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var total = 0;
        int batch;
        do
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            using var turn = await database.EnterWriteAsync(cancellationToken);
            batch = await connection.ExecuteAsync(new CommandDefinition(sql,
                new { Before = before.ToUnixTimeMilliseconds(), Max = BatchSize }, cancellationToken: cancellationToken));
            total += batch;
        }
        while (batch == BatchSize);

        return total;
    }
}

/// <summary>What one run of <see cref="RetentionJob"/> did: addresses deleted, link events stripped of their client.</summary>
public sealed record RetentionRun(int NeverConfirmedDeleted, int LinkEventsStripped);

/// <summary>Registers <see cref="RetentionJob"/> to run every hour (UTC).</summary>
internal sealed class RetentionScheduler(IRecurringJobManager recurring) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<RetentionJob>(RetentionJob.RecurringId, job => job.RunAsync(CancellationToken.None),
            Cron.Hourly(), new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
