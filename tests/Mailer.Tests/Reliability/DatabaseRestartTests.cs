using Dapper;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Mailer.Tests.Reliability;

/// <summary>
/// The database goes away in the middle of a fan-out: the service's PostgreSQL (store and Hangfire's jobs) is stopped
/// as an operator's restart does it (<c>pg_ctl stop -m fast</c>: every session ended at once), stays down for a few
/// seconds and comes back on the same port. The service is not restarted; the mailing must go on by itself.
/// </summary>
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private const int Connections = 4;
    private static readonly DateTimeOffset ConfirmedLongAgo = new(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _data = TestPaths.NewTemporaryDirectory("database-restart");
    private PostgresServer _postgres = null!;
    private TestSmtpServer _smtp = null!;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _smtp = await TestSmtpServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _smtp.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task PostgreSqlRestartedDuringAFanOut_TheMailingResumesByItself_NobodyIsMissed_AndDuplicatesStayWithinTheInFlightWindow()
    {
        const int count = 3000;
        _smtp.Answer = _ =>
        {
            Thread.Sleep(2);   // a server that takes its time, so the restart lands in the middle
            return SmtpAnswer.Accept;
        };
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        var logs = new LogCapture();
        await using var host = Host(time, logs).Start();
        await host.AddConfirmedAsync(count, ConfirmedLongAgo);
        await _smtp.WaitForMessagesAsync(count / 5, TimeSpan.FromMinutes(2));

        await _postgres.StopAsync();
        var atStop = _smtp.Messages.Count;
        // Down until a send job has met the outage (a fixed pause could end before any job noticed on a slow machine).
        await Eventually.MeetsAsync(() => Task.FromResult(logs.Lines.Any(l => l.Contains("[4030]", StringComparison.Ordinal))),
            TimeSpan.FromMinutes(1), "a send job paused by the outage");
        await _postgres.StartAgainAsync();
        Assert.True(atStop < count, "the database was stopped in the middle of the fan-out");

        // Neither the clock (no lease runs out) nor the service is touched: the mailing goes on by itself.
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));
        Assert.Equal(count, await host.CountAsync("SELECT COUNT(DISTINCT subscriber_id) FROM deliveries WHERE mailing = 'announcement' AND status = 'sent'"));
        var received = _smtp.Messages.GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(count, received.Count);
        var twice = received.Where(r => r.Value > 1).ToList();
        var paused = logs.Lines.Count(l => l.Contains("[4030]", StringComparison.Ordinal));
        var recorded = logs.Lines.Count(l => l.Contains("[4031]", StringComparison.Ordinal));
        var failedJobs = logs.Lines.Count(l => l.Contains("Failed to process the job", StringComparison.Ordinal));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"stopped after {atStop} of {count} messages; send jobs paused by the outage: {paused}, their outcomes recorded when it was back: {recorded}; "
            + $"jobs failed: {failedJobs}; received twice: {twice.Count} (allowed {Connections})");
        // A message the server accepted while its row could not be recorded goes out again: one per open connection.
        Assert.True(twice.Count <= Connections, $"{twice.Count} subscribers received the mailing more than once");
    }

    [Fact]
    public async Task AHangfireLockLeftBehindByASessionTheRestartEnded_HoldsTheDispatcherUpForAMinuteAtMost()
    {
        // A restart that ends a session while it holds one of Hangfire's locks (a row in hangfire.lock) leaves the row;
        // the recurring and delayed job schedulers wait for it, and the dispatcher's tick with them.
        const int count = 100;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using (Host(time, new LogCapture()).Start())
        {
            // Hangfire's tables, installed when the service starts.
        }

        await using (var connection = new NpgsqlConnection(_postgres.ConnectionString))
        {
            await connection.ExecuteAsync(
                "INSERT INTO hangfire.lock (resource, updatecount, acquired) VALUES (@Resource, 0, now() - interval '2 minutes')",
                new[] { new { Resource = "hangfire:recurring-jobs:lock" }, new { Resource = "hangfire:locks:schedulepoller" } });
        }

        await using var host = Host(time, new LogCapture()).Start();
        await host.AddConfirmedAsync(count, ConfirmedLongAgo);
        await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromSeconds(90));
        // The dispatcher's run at the start took those; these need its recurring tick, which waits for the scheduler's lock.
        await host.AddConfirmedAsync(count, ConfirmedLongAgo, prefix: "later");
        await host.WaitUntilSettledAsync("announcement", 2 * count, TimeSpan.FromSeconds(90));
        Assert.Equal(2 * count, _smtp.Messages.Select(m => m.To.Single()).Distinct().Count());
    }

    private CampaignHost Host(FakeTimeProvider time, LogCapture logs) => new(_data, _smtp, time, new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "PostgreSql",
        ["Storage:ConnectionString"] = _postgres.ConnectionString,
        ["Hangfire:Storage"] = "PostgreSql",
        ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
        ["Campaign:BatchSize"] = "100",
        ["Smtp:Connections"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
    })
    { ConfigureServices = services => services.AddSingleton<ILoggerProvider>(logs) };
}
