using Mailer.Storage;

namespace Mailer.Campaigns;

/// <summary>The campaign's schedule as it stands: the launch (configured or the recorded first start) and each mailing's moment.</summary>
public sealed class CampaignClock(CampaignSchedule schedule, DeliveryLedger ledger, TimeProvider time)
{
    private DateTimeOffset? _launch;

    public async Task<IReadOnlyList<ScheduledMailing>> MailingsAsync(CancellationToken cancellationToken)
    {
        _launch ??= schedule.ConfiguredLaunch ?? await ledger.LaunchAsync(time.GetUtcNow(), cancellationToken);
        return schedule.Build(_launch.Value);
    }

    public async Task<ScheduledMailing> MailingAsync(string mailing, CancellationToken cancellationToken) =>
        (await MailingsAsync(cancellationToken)).FirstOrDefault(m => m.Mailing == mailing)
        ?? throw new ArgumentException($"'{mailing}' is not a mailing of the campaign.", nameof(mailing));
}
