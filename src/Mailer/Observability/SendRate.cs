using System.Diagnostics.Metrics;

namespace Mailer.Observability;

/// <summary>
/// Messages this process sent per second over the last minute, per mailing of a campaign: one counter for each of the last 60
/// seconds (a ring), summed and divided by 60. A mailing that sent nothing for a minute reads 0.
/// </summary>
public sealed class SendRate(TimeProvider time)
{
    private const int WindowSeconds = 60;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Campaign, string Mailing), (long[] Second, long[] Count)> _mailings = [];

    public void Add(string campaign, string mailing, long count)
    {
        var second = Now();
        lock (_gate)
        {
            if (!_mailings.TryGetValue((campaign, mailing), out var ring))
            {
                _mailings[(campaign, mailing)] = ring = (new long[WindowSeconds], new long[WindowSeconds]);
            }

            var slot = (int)(second % WindowSeconds);
            if (ring.Second[slot] != second)
            {
                ring.Second[slot] = second;
                ring.Count[slot] = 0;
            }

            ring.Count[slot] += count;
        }
    }

    /// <summary>Messages per second of <paramref name="mailing"/> of <paramref name="campaign"/> over the last minute.</summary>
    public double PerSecond(string campaign, string mailing)
    {
        var now = Now();
        lock (_gate)
        {
            if (!_mailings.TryGetValue((campaign, mailing), out var ring))
            {
                return 0;
            }

            long sum = 0;
            for (var slot = 0; slot < WindowSeconds; slot++)
            {
                // A slot written in a second the clock has gone back from counts nothing.
                if (ring.Second[slot] > now - WindowSeconds && ring.Second[slot] <= now)
                {
                    sum += ring.Count[slot];
                }
            }

            return sum / (double)WindowSeconds;
        }
    }

    internal IEnumerable<Measurement<double>> Measure()
    {
        (string Campaign, string Mailing)[] mailings;
        lock (_gate)
        {
            mailings = [.. _mailings.Keys];
        }

        return [.. mailings.Select(m => new Measurement<double>(PerSecond(m.Campaign, m.Mailing),
            new KeyValuePair<string, object?>("campaign", m.Campaign), new KeyValuePair<string, object?>("mailing", m.Mailing)))];
    }

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();
}
