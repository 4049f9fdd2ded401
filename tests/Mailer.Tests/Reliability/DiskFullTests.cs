using System.Net;
using System.Net.Http.Json;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Reliability;

/// <summary>
/// The SQLite store's disk runs full in the middle of a fan-out: its data folder is a small file system (a tmpfs) that
/// the test fills with a filler file, then frees. Nothing may be half-written, nothing sent without its ledger record,
/// and both signups and sending must come back by themselves when the space does.
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    private const int Connections = 4;
    private static readonly DateTimeOffset ConfirmedLongAgo = new(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private SmallFileSystem _disk = null!;
    private TestSmtpServer _smtp = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _disk = await SmallFileSystem.MountAsync(megabytes: 32);
        _smtp = await TestSmtpServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _smtp.DisposeAsync();
        await _disk.DisposeAsync();
    }

    [Fact]
    public async Task TheSqliteDiskRunsFull_SignupsAnswer503AndStoreNothing_SendingPauses_AndBothComeBackWhenSpaceReturns()
    {
        const int count = 1000;
        // A server that takes its time; on the test's word it holds its answers, so that the disk fills while every
        // connection has a message in flight and the store is quiet.
        using var release = new ManualResetEventSlim();
        var holding = false;
        var held = 0;
        _smtp.Answer = _ =>
        {
            if (Volatile.Read(ref holding))
            {
                Interlocked.Increment(ref held);
                release.Wait();
            }

            Thread.Sleep(2);
            return SmtpAnswer.Accept;
        };
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        var logs = new LogCapture();
        await using var host = new CampaignHost(Path.Combine(_disk.Path, "data"), _smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Campaign:BatchSize"] = "50",
            ["Smtp:Connections"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Subscribers:SignupsPerClient"] = "100000",
        })
        { ConfigureServices = services => services.AddSingleton<ILoggerProvider>(logs) }.Start();
        try
        {
            await host.AddConfirmedAsync(count, ConfirmedLongAgo);
            await _smtp.WaitForMessagesAsync(count / 5, TimeSpan.FromMinutes(2));
            Volatile.Write(ref holding, true);
            await Eventually.MeetsAsync(() => Task.FromResult(Volatile.Read(ref held) == Connections), TimeSpan.FromMinutes(1), "a message in flight on every connection");

            // With room left in its write-ahead log, SQLite goes on taking some writes on a full disk (it reuses the log's
            // space once checkpointed). Emptied first, the log must grow for every write, as on a disk that filled long ago.
            await EmptyTheWriteAheadLogAsync(Path.Combine(host.DataDirectory, "mailer.db"));
            var filled = _disk.Fill();
            var atFill = _smtp.Messages.Count;
            Volatile.Write(ref holding, false);
            release.Set();

            // Signups: refused for now, with a time to come back, and nothing of them stored.
            using var client = host.CreateClient();
            for (var i = 0; i < 20; i++)
            {
                var refused = await client.PostAsJsonAsync("/subscribe", new { email = $"full{i}@example.org", platforms = new[] { "facebook" } }, Cancel);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.NotNull(refused.Headers.RetryAfter?.Delta);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            }

            // Sending: every job stopped at the store, each after the message that was in flight (its record waits for space).
            await Eventually.MeetsAsync(() => Task.FromResult(logs.Lines.Count(l => l.Contains("[4030]", StringComparison.Ordinal)) >= Connections),
                TimeSpan.FromMinutes(1), "the send jobs stop at the full disk");
            var paused = _smtp.Messages.Count;
            Assert.True(paused - atFill <= Connections, $"{paused - atFill} messages sent after the disk was full");
            for (var i = 20; i < 40; i++)
            {
                var refused = await client.PostAsJsonAsync("/subscribe", new { email = $"full{i}@example.org", platforms = new[] { "facebook" } }, Cancel);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            }

            Assert.Equal(paused, _smtp.Messages.Count);   // nothing sent while the disk stayed full
            Assert.True(paused < count, "the disk was full in the middle of the fan-out");

            // Space returns: a signup is accepted again and the mailing completes by itself.
            _disk.Free();
            var accepted = await client.PostAsJsonAsync("/subscribe", new { email = "back@example.org", platforms = new[] { "facebook" } }, Cancel);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            await host.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));

            Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email LIKE 'full%'"));
            Assert.Equal(1, await host.CountAsync("SELECT COUNT(*) FROM consents c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = 'back@example.org'"));
            Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers s WHERE s.status = 'pending' AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.subscriber_id = s.id)"));
            var announcements = _smtp.Messages.Where(m => m.Message.Headers["X-Mailing"] == "announcement").GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(count, announcements.Count);
            Assert.All(announcements, a => Assert.True(a.Value == 1, $"{a.Key} received the mailing {a.Value} times"));
            Assert.Equal(count, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE mailing = 'announcement' AND status = 'sent'"));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"disk full after {atFill} of {count} messages (filler {filled / 1024} KB); {paused - atFill} more before every job had stopped; "
                + $"40 signups refused with 503; after the space returned: signup 202, {count} sent once each");
        }
        finally
        {
            release.Set();   // a test that failed half-way must not leave the server holding its answers
        }
    }

    private static async Task EmptyTheWriteAheadLogAsync(string database)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False;Default Timeout=30");
        await connection.OpenAsync(Cancel);
        await using (var wait = connection.CreateCommand())
        {
            wait.CommandText = "PRAGMA busy_timeout = 30000";
            await wait.ExecuteNonQueryAsync(Cancel);
        }

        await Eventually.MeetsAsync(async () =>
        {
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await using var result = await checkpoint.ExecuteReaderAsync(Cancel);
            return await result.ReadAsync(Cancel) && result.GetInt32(0) == 0;   // 0: not blocked, the log is empty
        }, TimeSpan.FromMinutes(1), "the write-ahead log emptied");
    }
}
