using Mailer.Tests.Support;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// Every campaign test of <see cref="CampaignDeliveryTests"/> again with the store and Hangfire's jobs in a fresh
/// PostgreSQL database, as the instances of a scale-out run them. Here the restart test restarts with the jobs the
/// first host left in PostgreSQL rather than with empty job storage: the harder case, since those jobs run again.
/// </summary>
public sealed class CampaignDeliveryOnPostgreSqlTests : CampaignDeliveryTests
{
    private PostgresTestDatabase? _postgres;

    protected override IEnumerable<(string Key, string? Value)> StoreSettings => _postgres!.Settings(hangfire: true);

    public override async ValueTask InitializeAsync()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
