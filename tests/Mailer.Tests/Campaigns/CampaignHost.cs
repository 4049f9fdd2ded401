using Dapper;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// The whole service, jobs included, over a SQLite file of the test's own, sending to an in-process SMTP server,
/// with a clock the test moves. The dispatcher runs every second of real time and reads the fake clock.
/// Several hosts may share one data folder, as a restart does.
/// </summary>
public sealed class CampaignHost : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public CampaignHost(string dataDirectory, TestSmtpServer smtp, FakeTimeProvider time, IDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory;
        Time = time;
        _settings = new Dictionary<string, string?>
        {
            ["Mailer:DataDirectory"] = dataDirectory,
            ["Mailer:PublicBaseUrl"] = "https://kampagne.example.org",
            ["Mailer:SigningKey"] = "campaign-tests-signing-key-0123456789abcdef",
            ["Smtp:Host"] = smtp.Host,
            ["Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
            ["Smtp:Timeout"] = "00:00:10",
            ["Campaign:PollInterval"] = "00:00:01",
            ["Campaign:RetryBaseDelay"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string DataDirectory { get; }

    public FakeTimeProvider Time { get; }

    public Database Database => Services.GetRequiredService<Database>();

    public DeliveryLedger Ledger => Services.GetRequiredService<DeliveryLedger>();

    /// <summary>More service replacements for one test (set before <see cref="Start"/>).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Starts the host (and with it Hangfire and the dispatcher).</summary>
    public CampaignHost Start()
    {
        _ = Server;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            ConfigureServices?.Invoke(services);
        });
    }

    /// <summary>
    /// Adds confirmed subscribers directly to the store, as an import would; <paramref name="alsoSql"/> runs in the
    /// same transaction, so the dispatcher never sees the subscribers without it.
    /// </summary>
    public async Task<long[]> AddConfirmedAsync(int count, DateTimeOffset confirmedAt, string platforms = "facebook,instagram", string prefix = "person",
        string? alsoSql = null, object? alsoParameters = null, string campaign = Mailer.Tests.Storage.TestStore.Campaign)
    {
        await using var connection = await Database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var ids = new long[count];
        var at = confirmedAt.ToUnixTimeMilliseconds();
        for (var i = 0; i < count; i++)
        {
            ids[i] = await connection.ExecuteScalarAsync<long>(
                """
                INSERT INTO subscribers (campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at)
                VALUES (@Campaign, @Email, @Locale, @Platforms, '', 'confirmed', @At, @At) RETURNING id
                """,
                new { Campaign = campaign, Email = $"{prefix}{i}@example.net", Locale = i % 2 == 0 ? "de" : "en", Platforms = platforms, At = at },
                transaction);
        }

        if (alsoSql is not null)
        {
            await connection.ExecuteAsync(alsoSql, alsoParameters, transaction);
        }

        await transaction.CommitAsync();
        return ids;
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    /// <summary>How many dispatcher runs have completed so far (Hangfire's succeeded jobs of <see cref="Mailer.Campaigns.DispatchJob"/>).</summary>
    public long CompletedDispatchRuns()
    {
        var monitoring = Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        var succeeded = monitoring.SucceededListCount();
        return monitoring.SucceededJobs(0, (int)Math.Min(succeeded, int.MaxValue))
            .Count(j => j.Value?.Job?.Type == typeof(Mailer.Campaigns.DispatchJob));
    }

    /// <summary>
    /// Waits until <paramref name="runs"/> more dispatcher runs have completed: whatever the dispatcher would do about
    /// the state as it is now has been done (the first may have started before; the later ones saw it).
    /// </summary>
    public Task WaitForDispatchRunsAsync(int runs = 3)
    {
        var target = CompletedDispatchRuns() + runs;
        return Eventually.MeetsAsync(() => Task.FromResult(CompletedDispatchRuns() >= target), TimeSpan.FromMinutes(2), $"{runs} more dispatch runs");
    }

    /// <summary>Waits (real time) until every ledger row of <paramref name="mailing"/> is finished and there are <paramref name="rows"/> of them.</summary>
    public Task WaitUntilSettledAsync(string mailing, long rows, TimeSpan? timeout = null) =>
        Eventually.MeetsAsync(async () =>
        {
            var done = await CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = @mailing AND status IN ('sent', 'failed', 'skipped')", new { mailing });
            var all = await CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = @mailing", new { mailing });
            return done == rows && all == rows;
        }, timeout ?? TimeSpan.FromMinutes(3), $"all {rows} rows of {mailing} finished");
}

/// <summary>Waiting for something the service does in the background, with a deadline and a clear failure.</summary>
public static class Eventually
{
    public static async Task MeetsAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout} for: {what}");
            }

            await Task.Delay(50);
        }
    }
}
