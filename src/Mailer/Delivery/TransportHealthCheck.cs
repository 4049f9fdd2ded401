using Mailer.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mailer.Delivery;

/// <summary>
/// The <c>transport</c> entry of <c>/healthz</c>: can mails go out now? Its answer, healthy or not, is kept for
/// <c>Hosting:HealthCacheDuration</c>, and probes that arrive while a check runs wait for that one: during a relay
/// outage a probe every second does not open a connection to the relay every second.
/// </summary>
internal sealed class TransportHealthCheck(IMailTransport transport, TimeProvider time, IOptions<HostingOptions> hosting) : IHealthCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private Task<Answer>? _current;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<Answer> answer;
        lock (_lock)
        {
            if (_current is null || (_current.IsCompleted && time.GetUtcNow() >= _current.Result.KeepUntil))
            {
                // Not tied to this probe's request: an aborted probe must not fail the others waiting for the same check.
                _current = CheckTransportAsync();
            }

            answer = _current;
        }

        var (healthy, description, _) = await answer.WaitAsync(cancellationToken);
        return healthy ? HealthCheckResult.Healthy(description) : new HealthCheckResult(context.Registration.FailureStatus, description);
    }

    private async Task<Answer> CheckTransportAsync()
    {
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await transport.CheckAsync(limit.Token);
            return new Answer(true, transport.Describe(), time.GetUtcNow() + hosting.Value.HealthCacheDuration);
        }
        catch (Exception e)
        {
            return new Answer(false, $"{transport.Describe()}: {e.GetType().Name}: {e.Message}", time.GetUtcNow() + hosting.Value.HealthCacheDuration);
        }
    }

    private readonly record struct Answer(bool Healthy, string Description, DateTimeOffset KeepUntil);
}
