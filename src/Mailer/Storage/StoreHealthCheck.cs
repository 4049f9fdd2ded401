using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mailer.Storage;

/// <summary>The <c>store</c> entry of <c>/healthz</c> and <c>/healthz/ready</c>: the database answers a query.</summary>
internal sealed class StoreHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int>("SELECT 1");
            return HealthCheckResult.Healthy($"{database.Provider} answers");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} does not answer: {e.GetType().Name}");
        }
    }
}
