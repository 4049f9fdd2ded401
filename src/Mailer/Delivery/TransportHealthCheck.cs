using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mailer.Delivery;

/// <summary>
/// The <c>transport</c> entry of <c>/healthz</c>: can mails go out now? A healthy answer is kept for a
/// minute, so a frequent probe does not open a connection to the relay every time.
/// </summary>
internal sealed class TransportHealthCheck(IMailTransport transport, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan KeepHealthy = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private long _healthyUntilTicks;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (time.GetUtcNow().UtcTicks < Volatile.Read(ref _healthyUntilTicks))
        {
            return HealthCheckResult.Healthy(transport.Describe());
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            await transport.CheckAsync(limit.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{transport.Describe()}: {e.GetType().Name}: {e.Message}");
        }

        Volatile.Write(ref _healthyUntilTicks, (time.GetUtcNow() + KeepHealthy).UtcTicks);
        return HealthCheckResult.Healthy(transport.Describe());
    }
}
