using Dapper;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Reliability;

/// <summary>
/// The service told to stop (SIGTERM, a deploy) in the middle of a batch: the messages in flight finish and are
/// recorded, the rest goes back to the queue, nothing stays <c>sending</c>, and the next start sends the rest once.
/// </summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    private readonly string _data = TestPaths.NewTemporaryDirectory("shutdown");
    private TestSmtpServer _smtp = null!;

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task StoppingDuringABatch_FinishesTheMessagesInFlight_LeavesNothingSending_AndTheNextStartSendsTheRestOnce()
    {
        const int count = 1000;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        var slow = 0;
        var inFlightAtStop = 0;
        _smtp.Answer = _ =>
        {
            if (Volatile.Read(ref slow) == 1)
            {
                // Slow answers from now on, so the stop finds a message under way on every connection.
                Interlocked.Increment(ref inFlightAtStop);
                Thread.Sleep(300);
            }

            return SmtpAnswer.Accept;
        };
        var settings = new Dictionary<string, string?> { ["Campaign:LaunchAt"] = "2024-05-01T12:00:00", ["Campaign:BatchSize"] = "100" };

        var first = new CampaignHost(_data, _smtp, time, settings).Start();
        await first.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "stop");
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count >= 200), TimeSpan.FromMinutes(1), "200 messages before the stop");
        Volatile.Write(ref slow, 1);
        await Eventually.MeetsAsync(() => Task.FromResult(Volatile.Read(ref inFlightAtStop) >= 2), TimeSpan.FromMinutes(1), "messages under way");
        await first.DisposeAsync();

        var receivedAtStop = _smtp.Messages.Count;
        Assert.InRange(receivedAtStop, 200, count - 100);
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_data, "mailer.db")};Pooling=False"))
        {
            Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE status = 'sending'"));
            // Every message the server took is recorded as sent: the ones under way at the stop finished and were written down.
            Assert.Equal(receivedAtStop, await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
            Assert.Equal(count - receivedAtStop, await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE status = 'queued' AND attempts = 0"));
        }

        Volatile.Write(ref slow, 0);
        await using var second = new CampaignHost(_data, _smtp, time, settings).Start();
        await second.WaitUntilSettledAsync("announcement", count, TimeSpan.FromMinutes(3));

        var received = _smtp.Messages.GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(count, received.Count);
        Assert.All(received, r => Assert.True(r.Value == 1, $"{r.Key} received {r.Value} messages"));
        Assert.Equal(count, await second.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
    }
}
