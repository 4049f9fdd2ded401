using Dapper;
using Hangfire;
using Mailer.Campaigns;
using Mailer.Tests.Campaigns;
using Microsoft.Extensions.DependencyInjection;

namespace Mailer.Tests.Reliability;

/// <summary>One consistent look at the ledger: rows in flight, rows due now, and the next moment a queued row is due.</summary>
internal sealed class LedgerState
{
    public long Sending { get; init; }

    public long Due { get; init; }

    public long? NextRetry { get; init; }
}

internal static class LedgerProbe
{
    /// <summary>Reads <see cref="LedgerState"/> in one statement, so no job's step falls between two counts.</summary>
    public static async Task<LedgerState> StateAsync(this CampaignHost host, long nowUnixMilliseconds)
    {
        await using var connection = await host.Database.OpenAsync();
        return await connection.QuerySingleAsync<LedgerState>(
            """
            SELECT COALESCE(SUM(CASE WHEN status = 'sending' THEN 1 ELSE 0 END), 0) AS Sending,
                   COALESCE(SUM(CASE WHEN status = 'queued' AND not_before <= @Now THEN 1 ELSE 0 END), 0) AS Due,
                   MIN(CASE WHEN status = 'queued' THEN not_before END) AS NextRetry
            FROM deliveries
            """,
            new { Now = nowUnixMilliseconds });
    }

    /// <summary>Send jobs Hangfire is running right now.</summary>
    public static int SendJobsRunning(this CampaignHost host) =>
        host.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ProcessingJobs(0, 100)
            .Count(j => j.Value.Job?.Type == typeof(SendBatchJob));
}
