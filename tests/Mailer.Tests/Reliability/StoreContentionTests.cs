using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Mailer.Links;
using Mailer.Subscribers;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Signups;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Reliability;

/// <summary>
/// One SQLite file, one writer at a time: signups, confirmations, confirmation mails and a fan-out all write at once.
/// Every request still gets its ordinary answer, every signup that was answered 202 is stored, and the mailing goes
/// once to each confirmed subscriber and to nobody else.
/// </summary>
public sealed class StoreContentionTests : IAsyncLifetime
{
    private readonly string _data = TestPaths.NewTemporaryDirectory("contention");
    private TestSmtpServer _smtp = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task SignupsAndConfirmationsDuringAFanOut_AllAnsweredNormally_NoneLost_AndEachConfirmedGetsTheMailingOnce()
    {
        const int existing = 3000;
        const int signups = 800;
        const int clients = 32;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = new CampaignHost(_data, _smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Campaign:BatchSize"] = "100",
            ["Subscribers:SignupsPerClient"] = "100000",
        }).Start();
        await host.AddConfirmedAsync(existing, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "known");
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count >= 100), TimeSpan.FromMinutes(1), "the fan-out under way");

        var store = host.Services.GetRequiredService<ISubscriberStore>();
        var links = host.Services.GetRequiredService<LinkBuilder>();
        var answers = new ConcurrentBag<(string What, HttpStatusCode Status)>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            using var client = host.CreateClient();
            int n;
            while ((n = Interlocked.Increment(ref next)) < signups)
            {
                var email = $"new{n}@example.org";
                var signup = await client.PostAsJsonAsync("/subscribe", new { email, platforms = new[] { "facebook" }, locale = "en" }, Cancel);
                answers.Add(("signup", signup.StatusCode));
                if (n % 2 == 0 && signup.StatusCode == HttpStatusCode.Accepted)
                {
                    var subscriber = await store.FindByEmailAsync(email, Cancel);
                    var confirm = await client.ConfirmWithButtonAsync(links.ConfirmUrl(subscriber!.Id));
                    answers.Add(("confirm", confirm.StatusCode));
                }
            }
        }));

        var sentDuringTheBurst = _smtp.Messages.Count;
        Assert.True(sentDuringTheBurst < existing, "the signups ran while the fan-out was under way");
        var unusual = answers.Where(a => a.Status != (a.What == "signup" ? HttpStatusCode.Accepted : HttpStatusCode.OK)).ToList();
        Assert.True(unusual.Count == 0, $"{unusual.Count} unusual answers: {string.Join(", ", unusual.Distinct())}");
        Assert.Equal(signups + signups / 2, answers.Count);
        Assert.Equal(existing + signups, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(signups, await host.CountAsync("SELECT COUNT(*) FROM consents WHERE subscriber_id IN (SELECT id FROM subscribers WHERE email LIKE 'new%')"));
        Assert.Equal(signups / 2, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email LIKE 'new%' AND status = 'confirmed'"));

        await host.WaitUntilSettledAsync("announcement", existing + signups / 2, TimeSpan.FromMinutes(3));
        var announcements = _smtp.Messages.Where(m => m.Message.Headers["X-Mailing"] == "announcement")
            .GroupBy(m => m.To.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(existing + signups / 2, announcements.Count);
        Assert.All(announcements, a => Assert.True(a.Value == 1, $"{a.Key} received {a.Value} announcements"));
        Assert.DoesNotContain(announcements.Keys, to => to.StartsWith("new", StringComparison.Ordinal) && Generated.Number(to) % 2 == 1);
        var confirmationMails = _smtp.Messages.Where(m => m.Message.Headers["X-Mailing"] == "confirm").GroupBy(m => m.To.Single());
        Assert.All(confirmationMails, c => Assert.True(c.Count() == 1, $"{c.Key} received {c.Count()} confirmation mails"));
    }

    [Fact]
    public async Task AWriteLockHeldForSecondsByAnotherProgram_DelaysSignupsAndSending_ButFailsNone()
    {
        const int existing = 500;
        const int signups = 100;
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        _smtp.Answer = _ =>
        {
            Thread.Sleep(2);
            return SmtpAnswer.Accept;
        };
        await using var host = new CampaignHost(_data, _smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Campaign:BatchSize"] = "50",
            ["Subscribers:SignupsPerClient"] = "100000",
        }).Start();
        await host.AddConfirmedAsync(existing, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "locked");
        await Eventually.MeetsAsync(() => Task.FromResult(_smtp.Messages.Count >= 50), TimeSpan.FromMinutes(1), "the fan-out under way");

        // Another program (sqlite3, a backup, an import) takes the write lock and keeps it for three seconds.
        await using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "mailer.db")};Pooling=False");
        await other.OpenAsync(Cancel);
        await using (var command = other.CreateCommand())
        {
            command.CommandText = "BEGIN IMMEDIATE";
            await command.ExecuteNonQueryAsync(Cancel);
        }

        using var client = host.CreateClient();
        var answers = Enumerable.Range(0, signups)
            .Select(n => client.PostAsJsonAsync("/subscribe", new { email = $"waiting{n}@example.org", platforms = new[] { "instagram" } }, Cancel))
            .ToList();
        await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
        Assert.DoesNotContain(answers, a => a.IsCompletedSuccessfully && a.Result.StatusCode == HttpStatusCode.Accepted);   // they wait for the lock
        await using (var command = other.CreateCommand())
        {
            command.CommandText = "COMMIT";
            await command.ExecuteNonQueryAsync(Cancel);
        }

        Assert.All(await Task.WhenAll(answers), a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        Assert.Equal(signups, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE email LIKE 'waiting%'"));
        await host.WaitUntilSettledAsync("announcement", existing, TimeSpan.FromMinutes(2));
        var announcements = _smtp.Messages.Where(m => m.Message.Headers["X-Mailing"] == "announcement").GroupBy(m => m.To.Single()).ToList();
        Assert.Equal(existing, announcements.Count);
        Assert.All(announcements, a => Assert.Single(a));
        Assert.Equal(existing, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'"));
    }
}
