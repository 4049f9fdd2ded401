using Dapper;
using Hangfire;
using Mailer.Campaigns;
using Mailer.Rendering;
using Mailer.Tests.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// One send job run by the test itself, in the whole service without its dispatcher (nothing else sends), over rows the
/// test wrote. On SQLite here, on PostgreSQL in <see cref="SendBatchJobOnPostgreSqlTests"/>, which inherits every test.
/// </summary>
public class SendBatchJobTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2024, 5, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Confirmed = new(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private TestSmtpServer _smtp = null!;
    private readonly string _data = TestPaths.NewTemporaryDirectory("send-job");

    protected virtual IEnumerable<(string Key, string? Value)> StoreSettings => [];

    private static readonly (string Key, string? Value)[] Defaults = [("Campaign:LaunchAt", "2024-05-01T12:00:00"), ("Campaign:BatchSize", "10")];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public virtual async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    private CampaignHost Host(FakeTimeProvider time, params (string Key, string? Value)[] settings) =>
        new(_data, _smtp, time, StoreSettings.Concat(Defaults).Concat(settings)
            .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value))   // a test's own setting wins
        {
            // No dispatcher: the test's job is the only one that sends.
            ConfigureServices = services =>
            {
                foreach (var dispatcher in services.Where(d => d.ImplementationType == typeof(DispatchScheduler)).ToList())
                {
                    services.Remove(dispatcher);
                }
            },
        };

    /// <summary>Confirmed subscribers with a queued announcement row each, in id order; <paramref name="email"/> may change an address.</summary>
    private static async Task<long[]> QueuedAsync(CampaignHost host, int count, Func<int, string>? email = null)
    {
        var ids = await host.AddConfirmedAsync(count, Confirmed, prefix: "job");
        if (email is not null)
        {
            for (var i = 0; i < count; i++)
            {
                await host.ExecuteAsync("UPDATE subscribers SET email = @Email WHERE id = @Id", new { Email = email(i), Id = ids[i] });
            }
        }

        var now = Now.ToUnixTimeMilliseconds();
        await host.ExecuteAsync(
            """
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before)
            SELECT id, 'meta-ai-objection', 'announcement', 'queued', 0, @now, @now, @now FROM subscribers
            """, new { now });
        return ids;
    }

    private static Task RunJobAsync(CampaignHost host) =>
        host.Services.GetRequiredService<SendBatchJob>().RunAsync("announcement", CancellationToken.None);

    [Fact]
    public async Task ARowWhoseMessageCannotBeComposed_FailsAlone_AndTheRestOfItsBatchIsSent()
    {
        await using var host = Host(new FakeTimeProvider(Now)).Start();
        // The third subscriber's address carries a control character: the message factory refuses to put it in a header.
        var ids = await QueuedAsync(host, 25, i => i == 2 ? "bro\u0007ken@example.net" : $"job{i}@example.net");

        await RunJobAsync(host);   // does not throw

        var poison = await host.Ledger.HistoryAsync(ids[2], Cancel);
        Assert.Equal("failed", Assert.Single(poison).Status);
        Assert.Contains("could not be composed", poison[0].LastReply);
        Assert.Contains("not one plain mail address", poison[0].LastReply);
        Assert.DoesNotContain("ken@example.net", poison[0].LastReply);
        Assert.Equal(24, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        Assert.Equal(24, _smtp.Messages.Count);
    }

    [Fact]
    public async Task AScribanErrorInABranchOnlySomeSubscribersReach_FailsTheirRowsAlone_WithFileAndLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "announcement.txt.sbn");
        // A branch the start's trial render cannot reach: it depends on the address, not on language, platforms or day.
        File.AppendAllText(file, "\n{{ if email | string.contains \"poison\" }}{{ gibt_es_nicht }}{{ end }}\n");
        var lines = File.ReadAllLines(file).Length;
        await using var host = Host(new FakeTimeProvider(Now), ("Rendering:TemplateDirectory", templates)).Start();
        var ids = await QueuedAsync(host, 12, i => i is 0 or 6 ? $"poison{i}@example.net" : $"job{i}@example.net");

        await RunJobAsync(host);

        foreach (var id in new[] { ids[0], ids[6] })
        {
            var row = Assert.Single(await host.Ledger.HistoryAsync(id, Cancel));
            Assert.Equal("failed", row.Status);
            Assert.Contains($"announcement.txt.sbn({lines},", row.LastReply);
            Assert.Contains("gibt_es_nicht", row.LastReply);
            Assert.DoesNotContain("poison", row.LastReply);
        }

        Assert.Equal(10, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        Assert.Equal(10, _smtp.Messages.Count);
    }

    [Fact]
    public async Task AFinalDayReminderDueWhileAJobSendsTheAnnouncement_TakesItsNextBatches()
    {
        // The final day, 09:00 in Berlin: the final reminder (due 08:00) and the announcement (open for good) both have rows.
        var finalDay = new DateTimeOffset(2024, 5, 26, 7, 0, 0, TimeSpan.Zero);
        await using var host = Host(new FakeTimeProvider(finalDay)).Start();
        await host.AddConfirmedAsync(60, Confirmed, prefix: "late");
        await host.AddConfirmedAsync(20, Confirmed, prefix: "final");
        var now = finalDay.ToUnixTimeMilliseconds();
        await host.ExecuteAsync(
            """
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before)
            SELECT id, 'meta-ai-objection', CASE WHEN email LIKE 'final%' THEN 'reminder-final' ELSE 'announcement' END, 'queued', 0, @now, @now, @now
            FROM subscribers
            """, new { now });

        // A job queued for the announcement, as the dispatcher queued it before the reminder came due.
        await RunJobAsync(host);

        await _smtp.WaitForMessagesAsync(80, TimeSpan.FromSeconds(60));
        var order = _smtp.Messages.Select(m => m.To[0]).ToList();
        Assert.All(order.Take(20), to => Assert.StartsWith("final", to));
        Assert.Equal(80, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
    }

    [Fact]
    public async Task AJobThatLostSomeOfItsRowsToAnotherJob_StopsAtTheRenewal_AndLeavesThoseRowsAlone()
    {
        var time = new FakeTimeProvider(Now);
        // One batch of 30: the renewal comes due while the job still holds most of it.
        await using var host = Host(time, ("Campaign:BatchSize", "30"), ("Campaign:LeaseDuration", "00:03:00")).Start();
        await QueuedAsync(host, 30);
        var answered = 0;
        _smtp.Answer = mail =>
        {
            if (Interlocked.Increment(ref answered) == 3)
            {
                // The job stalled past a third of its lease: another job's claim took ten of its rows meanwhile.
                // Ten rows it has not reached yet, not the one in flight (whose answer is this one).
                host.ExecuteAsync(
                    """
                    UPDATE deliveries SET lease_owner = 'other-job' WHERE id IN (
                        SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
                        WHERE d.status = 'sending' AND s.email <> @InFlight ORDER BY d.id LIMIT 10)
                    """, new { InFlight = mail.To[0] }).GetAwaiter().GetResult();
                time.Advance(TimeSpan.FromMinutes(1.5));
            }

            return SmtpAnswer.Accept;
        };

        await RunJobAsync(host);

        await _smtp.WaitForMessagesAsync(3, TimeSpan.FromSeconds(30));   // the server files the last one after its answer
        Assert.Equal(3, _smtp.Messages.Count);
        Assert.Equal(3, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
        // The other job's rows: untouched, still its own.
        Assert.Equal(10, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE lease_owner = 'other-job' AND status = 'sending'"));
        // The rest of the batch is back in the queue, untried, for whoever claims next.
        Assert.Equal(17, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'queued' AND attempts = 0"));
    }
}

public sealed class SendBatchJobOnPostgreSqlTests : SendBatchJobTests
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
