using System.Diagnostics.Metrics;
using Mailer.Campaigns;
using Mailer.Rendering;

namespace Mailer.Observability;

/// <summary>
/// The gauge of ledger rows not finished yet, per mailing and state. A scrape (or an OTLP export) reads the store at
/// most once per <see cref="CacheFor"/>; a read that takes longer than <see cref="WaitAtMost"/> (a busy or unreachable
/// database) leaves the scrape with the last numbers, and the next one gets the fresh ones.
/// </summary>
public sealed class LedgerWaiting(LedgerReadings ledger, CampaignCatalog catalog, TimeProvider time, ILogger<LedgerWaiting> logger)
{
    internal static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WaitAtMost = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private IReadOnlyList<Measurement<long>> _last = [];
    private long? _readAt;
    private Task? _reading;

    internal IEnumerable<Measurement<long>> Measure()
    {
        Task? reading;
        lock (_gate)
        {
            if (_readAt is { } at && time.GetElapsedTime(at) < CacheFor)
            {
                return _last;
            }

            reading = _reading ??= Task.Run(ReadAsync);
        }

        // The callback is synchronous (the meter's collect): wait a little for the store, never long.
        reading.Wait(WaitAtMost);
        lock (_gate)
        {
            return _last;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var measurements = new List<Measurement<long>>();
            foreach (var (campaign, mailing) in catalog.All.SelectMany(c => c.Mailings.Keys.Select(m => (c.Name, m.ToLowerInvariant()))))
            {
                var (queued, sending) = await ledger.WaitingAsync(campaign, mailing, limit.Token);
                measurements.Add(new(queued, new("campaign", campaign), new("mailing", mailing), new("state", "queued")));
                measurements.Add(new(sending, new("campaign", campaign), new("mailing", mailing), new("state", "sending")));
            }

            lock (_gate)
            {
                _last = measurements;
                _readAt = time.GetTimestamp();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The store is away; the health check says so. The gauge keeps its last numbers until it is back.
            ObservabilityLog.WaitingNotRead(logger, e);
        }
        finally
        {
            lock (_gate)
            {
                _reading = null;
            }
        }
    }
}
