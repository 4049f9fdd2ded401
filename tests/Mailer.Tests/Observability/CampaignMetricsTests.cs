using System.Net;
using Dapper;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Observability;

/// <summary>
/// A small campaign through the real service (dispatcher, send jobs, an SMTP server that accepts, refuses and defers):
/// the scraped counters say what the ledger says, mailing by mailing and outcome by outcome. On SQLite here, on
/// PostgreSQL in <see cref="CampaignMetricsOnPostgreSqlTests"/>.
/// </summary>
public class CampaignMetricsTests : IAsyncLifetime
{
    /// <summary>A refusal with markup in it: the campaign page must show it as text.</summary>
    public const string HostileReply = "5.1.1 <script>alert('gone')</script> & \"no such user\"";

    private static readonly DateTimeOffset Launch = new(2024, 5, 1, 10, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset WeekDue = new(2024, 5, 19, 7, 0, 30, TimeSpan.Zero);

    private readonly string _data = TestPaths.NewTemporaryDirectory("metrics");
    private TestSmtpServer _smtp = null!;

    protected virtual IEnumerable<(string Key, string? Value)> StoreSettings => [];

    public virtual async ValueTask InitializeAsync() => _smtp = await StartSmtpAsync();

    /// <summary>The small campaign's SMTP server: refuses the "gone" addresses with <see cref="HostileReply"/>, defers the first message to "later".</summary>
    internal static async Task<TestSmtpServer> StartSmtpAsync()
    {
        var smtp = await TestSmtpServer.StartAsync();
        var deferred = 0;
        smtp.Answer = mail => mail.To.Single() switch
        {
            var to when to.StartsWith("gone", StringComparison.Ordinal) => SmtpAnswer.Reply(550, HostileReply),
            var to when to.StartsWith("later", StringComparison.Ordinal) && Interlocked.Increment(ref deferred) == 1 => SmtpAnswer.Reply(451, "4.7.1 Greylisted, try again"),
            _ => SmtpAnswer.Accept,
        };
        return smtp;
    }

    public virtual async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    /// <summary>Runs the announcement and the week's reminder to 13 subscribers: 2 refused, 1 deferred once, 2 done with every platform.</summary>
    /// <param name="kestrel">Serve on a real port of 127.0.0.1 (for a browser) instead of the in-memory test server.</param>
    internal static async Task<CampaignHost> RunSmallCampaignAsync(string data, TestSmtpServer smtp, IEnumerable<(string Key, string? Value)> store, bool kestrel = false)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 8, 0, 0, TimeSpan.Zero));
        var settings = store.Append(("Campaign:LaunchAt", "2024-05-01T12:00:00")).ToDictionary(s => s.Item1, s => s.Item2);
        var host = new CampaignHost(data, smtp, time, settings);
        if (kestrel)
        {
            host.UseKestrel(0);
            host.StartServer();
        }
        else
        {
            host.Start();
        }

        var confirmed = new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);
        await host.AddConfirmedAsync(8, confirmed, prefix: "person");
        await host.AddConfirmedAsync(2, confirmed, prefix: "gone");
        await host.AddConfirmedAsync(1, confirmed, prefix: "later");
        await host.AddConfirmedAsync(2, confirmed, prefix: "done", alsoSql: "UPDATE subscribers SET done_platforms = platforms WHERE email LIKE 'done%'");

        time.SetUtcNow(Launch);
        await host.WaitUntilSettledAsync("announcement", 13);
        time.SetUtcNow(WeekDue);
        await host.WaitUntilSettledAsync("reminder-week", 13);
        return host;
    }

    [Fact]
    public async Task AfterASmallCampaign_TheScrapedCounters_EqualTheLedger()
    {
        await using var host = await RunSmallCampaignAsync(_data, _smtp, StoreSettings);

        // A send job counts a message right after its row is recorded: the last count may follow the ledger by a moment.
        PrometheusText scrape = null!;
        await Eventually.MeetsAsync(async () => (scrape = await ScrapeAsync(host)).Samples("mailer_messages_total")
                .Where(s => s.Labels["outcome"] != "requeued").Sum(s => s.Value) == 26,
            TimeSpan.FromSeconds(30), "every finished row counted");

        await using var connection = await host.Database.OpenAsync(Cancel);
        var ledger = (await connection.QueryAsync<(string Mailing, string Status, long Count)>(
            "SELECT mailing, status, COUNT(*) FROM deliveries GROUP BY mailing, status")).ToList();
        var requeued = (await connection.QueryAsync<(string Mailing, long Count)>(
            "SELECT mailing, SUM(attempts - 1) FROM deliveries WHERE attempts > 0 GROUP BY mailing")).ToList();
        var answered = await connection.ExecuteScalarAsync<long>("SELECT SUM(attempts) FROM deliveries");
        foreach (var mailing in new[] { "announcement", "reminder-week" })
        {
            foreach (var status in new[] { "sent", "failed", "skipped" })
            {
                var expected = ledger.Where(l => l.Mailing == mailing && l.Status == status).Sum(l => l.Count);
                Assert.True(expected == scrape.Value("mailer_messages_total", ("campaign", "meta-ai-objection"), ("mailing", mailing), ("outcome", status)),
                    $"{mailing} {status}: the ledger has {expected}\n{scrape.Text}");
            }

            Assert.Equal(requeued.Where(r => r.Mailing == mailing).Sum(r => r.Count), scrape.Value("mailer_messages_total", ("mailing", mailing), ("outcome", "requeued")));
        }

        // The run did meet every outcome (the done ones get the announcement, not the reminder), and the server answered
        // each attempt once. The rate is the last minute's of the test's clock: the reminder's 9, the announcement 18 days ago.
        // The two the server refused with 5.1.1 are hard bounces: the reminder skips them instead of failing again.
        Assert.Equal((20, 2, 4, 1), (
            ledger.Where(l => l.Status == "sent").Sum(l => l.Count),
            ledger.Where(l => l.Status == "failed").Sum(l => l.Count),
            ledger.Where(l => l.Status == "skipped").Sum(l => l.Count),
            requeued.Sum(r => r.Count)));
        Assert.Equal(answered, scrape.Value("mailer_smtp_answer_duration_seconds_count"));
        Assert.Equal(9 / 60.0, scrape.Value("mailer_send_rate_per_second", ("campaign", "meta-ai-objection"), ("mailing", "reminder-week")), 6);
        Assert.Equal(0, scrape.Value("mailer_send_rate_per_second", ("mailing", "announcement")));
        await Eventually.MeetsAsync(async () =>
            {
                host.Time.Advance(Mailer.Observability.LedgerWaiting.CacheFor);   // the gauge's cache runs on the service's clock
                return (await ScrapeAsync(host)).Samples("mailer_ledger_waiting") is { Count: 6 } waiting && waiting.All(w => w.Value == 0);
            },
            TimeSpan.FromSeconds(30), "the gauge of waiting rows reads 0 for every mailing and state");
    }

    [Fact]
    public async Task AfterASmallCampaign_TheScrape_PassesPromtoolCheckMetrics()
    {
        var promtool = ExternalProgram.Require("/usr/bin/promtool", "prometheus");
        await using var host = await RunSmallCampaignAsync(_data, _smtp, StoreSettings);

        var scrape = await ScrapeAsync(host);
        var (exitCode, output) = await ExternalProgram.RunAsync(promtool, ["check", "metrics"], standardInput: scrape.Text);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool check metrics: exit {exitCode}\n{output}\n---\n{scrape.Text}");
        foreach (var name in new[] { "mailer_messages_total", "mailer_smtp_answer_duration_seconds_bucket", "mailer_ledger_waiting", "mailer_send_rate_per_second" })
        {
            Assert.Contains(name, scrape.Text);
        }
    }

    /// <summary>The scrape as this machine's Prometheus gets it.</summary>
    internal static async Task<PrometheusText> ScrapeAsync(CampaignHost host)
    {
        using var client = new HttpClient(host.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Loopback))
        {
            BaseAddress = new Uri("http://localhost"),
        };
        var response = await client.GetAsync("/metrics", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new PrometheusText(await response.BodyAsync());
    }
}

/// <summary>The campaign's counters against a ledger in PostgreSQL, with Hangfire's jobs there too.</summary>
public sealed class CampaignMetricsOnPostgreSqlTests : CampaignMetricsTests
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
