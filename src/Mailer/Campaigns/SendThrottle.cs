using System.Threading.RateLimiting;
using Mailer.Delivery;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// Holds all sends of this process to <c>Smtp:MaxMessagesPerSecond</c>. Unlimited (0, the default) costs nothing:
/// no limiter exists and the wait completes synchronously.
/// </summary>
public sealed class SendThrottle : IDisposable
{
    private readonly TokenBucketRateLimiter? _limiter;

    public SendThrottle(IOptions<SmtpOptions> options)
    {
        var perSecond = options.Value.MaxMessagesPerSecond;
        if (perSecond > 0)
        {
            _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = perSecond,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        }
    }

    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        return _limiter is null ? ValueTask.CompletedTask : AcquireAsync(_limiter, cancellationToken);

        static async ValueTask AcquireAsync(TokenBucketRateLimiter limiter, CancellationToken cancellationToken)
        {
            using var lease = await limiter.AcquireAsync(1, cancellationToken);
        }
    }

    public void Dispose() => _limiter?.Dispose();
}
