using System.Collections.Concurrent;
using Mailer.Storage;

namespace Mailer.Campaigns;

/// <summary>The campaigns' schedules as they stand: each launch (configured or the recorded first start) and each mailing's moment.</summary>
public sealed class CampaignClock(CampaignCatalog catalog, DeliveryLedger ledger, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _launches = new(StringComparer.Ordinal);

    /// <summary>Every mailing of every campaign, in the order they fall due.</summary>
    public async Task<IReadOnlyList<ScheduledMailing>> MailingsAsync(CancellationToken cancellationToken)
    {
        var all = new List<ScheduledMailing>();
        foreach (var campaign in catalog.All)
        {
            all.AddRange(await MailingsAsync(campaign, cancellationToken));
        }

        return all.OrderBy(m => m.Due).ToList();
    }

    /// <summary>The mailings of one campaign.</summary>
    public async Task<IReadOnlyList<ScheduledMailing>> MailingsAsync(CampaignOptions campaign, CancellationToken cancellationToken)
    {
        if (!_launches.TryGetValue(campaign.Name, out var launch))
        {
            launch = campaign.LaunchAtUtc ?? await ledger.LaunchAsync(campaign.Name, time.GetUtcNow(), cancellationToken);
            _launches[campaign.Name] = launch;
        }

        return CampaignSchedule.For(campaign, launch);
    }

    public async Task<ScheduledMailing> MailingAsync(string campaign, string mailing, CancellationToken cancellationToken) =>
        (await MailingsAsync(catalog.Get(campaign), cancellationToken)).FirstOrDefault(m => m.Mailing == mailing)
        ?? throw new ArgumentException($"'{mailing}' is not a mailing of the campaign {campaign}.", nameof(mailing));
}
