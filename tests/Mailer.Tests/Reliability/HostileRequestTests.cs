using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Dapper;
using Mailer.Campaigns;
using Mailer.Links;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Mailer.Tests.Reliability;

/// <summary>
/// Ten thousand malformed and hostile requests, over real HTTP to the service as it runs in production (Kestrel,
/// environment Production), from strangers' addresses. The promise: no server error, nothing stored, no redirect but to
/// the configured forms, the dashboard closed, no input echoed as markup, no mail to anyone who did not confirm, and no
/// address, client IP or token in the logs. The generator is seeded: a failure names the request number to replay.
/// </summary>
public sealed partial class HostileRequestTests
{
    private const int Requests = 10_000;
    private const int Seed = 20240526;
    private static readonly DateTimeOffset Now = new(2024, 5, 10, 10, 0, 0, TimeSpan.Zero);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TenThousandHostileRequests_NoServerError_NothingStored_NoForeignRedirect_NoMailToTheUnconfirmed_NoSubscriberDataInLogs()
    {
        await using var target = Target.Start();
        var (factory, app, server, logs) = (target.Factory, target.App, target.Server, target.Logs);

        var (surface, addresses) = await SeedAsync(app.Services, server);
        var before = await SnapshotAsync(app.Services);
        var generator = new HostileRequests(new Random(Seed), surface);
        var requests = Enumerable.Range(0, Requests).Select(_ => generator.Next()).ToList();

        var results = new ConcurrentBag<(int Number, RawRequest Request, RawResponse Response)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancel },
            async (n, _) => results.Add((n, requests[n], await RawHttp.SendAsync(server, requests[n].Bytes, TimeSpan.FromSeconds(30)))));

        static string Describe(IEnumerable<(int Number, RawRequest Request, RawResponse Response)> found) =>
            string.Join("\n", found.OrderBy(f => f.Number).Take(8).Select(f =>
                $"#{f.Number} {f.Request.Label} → {f.Response.Status} {f.Response.Header("Location")}: "
                + $"{Encoding.Latin1.GetString(f.Request.Bytes[..Math.Min(300, f.Request.Bytes.Length)]).ReplaceLineEndings("⏎")} ⇒ "
                + $"{f.Response.Text[..Math.Min(300, f.Response.Text.Length)].ReplaceLineEndings("⏎")}"));

        TestContext.Current.TestOutputHelper?.WriteLine("answers by status: " + string.Join(", ",
            results.GroupBy(r => r.Response.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));

        // 505 is Kestrel's answer to a request line in an HTTP version it does not speak (HTTP/1.2, HTTX/1.1), given
        // before the application sees anything: a refusal by the protocol, not a failure of the server.
        var serverErrors = results.Where(r => r.Response.Status >= 500 && !(r.Response.Status == 505 && r.Request.Label == "broken request line")).ToList();
        Assert.True(serverErrors.Count == 0, $"{serverErrors.Count} server errors (seed {Seed}):\n{Describe(serverErrors)}");
        var unanswered = results.Where(r => r.Response.Status == 0 && !r.Request.MayBeCutOff).ToList();
        Assert.True(unanswered.Count == 0, $"{unanswered.Count} requests without an answer:\n{Describe(unanswered)}");

        var forms = new[] { TestOptions.FacebookForm, TestOptions.InstagramForm };
        var redirects = results.Where(r => r.Response.Status is 301 or 302 or 303 or 307 or 308).ToList();
        var foreign = redirects.Where(r => !forms.Contains(r.Response.Header("Location"))).ToList();
        Assert.True(foreign.Count == 0, $"{foreign.Count} redirects elsewhere than the forms:\n{Describe(foreign)}");

        var echoed = results.Where(r => r.Response.Text.Contains($"<{HostileRequests.Marker}", StringComparison.OrdinalIgnoreCase)
            || r.Response.Text.Contains($"\" data-{HostileRequests.Marker}=\"", StringComparison.OrdinalIgnoreCase)
            || r.Response.Headers.Any(h => h.Value.Contains("owned=1", StringComparison.Ordinal) || h.Key.Equals("Bcc", StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(echoed.Count == 0, $"{echoed.Count} answers echo input as markup or headers:\n{Describe(echoed)}");

        // No origin is allowed here, so no "check your inbox" page may link anywhere, whatever returnUrl or Referer said.
        var backLinks = results.Where(r => r.Response.Text.Contains("Zurück zum Artikel", StringComparison.Ordinal)
            || r.Response.Text.Contains("Back to the article", StringComparison.Ordinal)).ToList();
        Assert.True(backLinks.Count == 0, $"{backLinks.Count} answers link back to a site that is not allowed:\n{Describe(backLinks)}");

        var dashboard = results.Where(r => r.Response.Text.Contains("Mailer jobs", StringComparison.Ordinal)    // the dashboard's title
            || (r.Request.Path.StartsWith("/hangfire", StringComparison.OrdinalIgnoreCase) && r.Response.Status is >= 200 and < 400)).ToList();
        Assert.True(dashboard.Count == 0, $"{dashboard.Count} answers from the dashboard:\n{Describe(dashboard)}");
        Assert.Contains(results, r => r.Request.Label == "dashboard" && r.Response.Status == 401);

        Assert.Equal(before, await SnapshotAsync(app.Services));
        Assert.Empty(factory.ConfirmationMails.All);
        Assert.Equal(0, factory.CapturedJobs.ConfirmationCount);

        // The mailing after the attack goes to the one confirmed subscriber only.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DispatchJob>().RunAsync(Cancel);
            await scope.ServiceProvider.GetRequiredService<SendBatchJob>().RunAsync("announcement", Cancel);
        }

        var recipients = Directory.GetFiles(factory.OutboxDirectory, "*.eml")
            .SelectMany(f => MimeMessage.Load(f).To.Mailboxes.Select(m => m.Address)).ToList();
        Assert.Equal([addresses.Confirmed], recipients);

        var secrets = new[] { addresses.Pending, addresses.Confirmed, addresses.Unsubscribed, "victim@evil.example", "anna@example.de", "203.0.113.", "198.51.100.", "2001:db8:" }
            .Concat(surface.Valid.Select(t => t.Token)).Concat(surface.Forged).ToList();
        var leaks = logs.Lines.Where(line => secrets.Any(s => line.Contains(s, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} log lines with subscriber data, e.g.:\n{string.Join("\n", leaks.Take(5))}");
        Assert.NotEmpty(logs.Lines);
    }

    private sealed record Addresses(string Pending, string Confirmed, string Unsubscribed);

    /// <summary>The service as in production (Kestrel, environment Production), every log line captured, a dashboard password set.</summary>
    private sealed class Target(MailerAppFactory factory, WebApplicationFactory<Program> app, IPEndPoint server, LogCapture logs) : IAsyncDisposable
    {
        public const string DashboardUser = "operator";
        public const string DashboardPassword = "Operator-Password-1";

        public MailerAppFactory Factory => factory;

        public WebApplicationFactory<Program> App => app;

        public IPEndPoint Server => server;

        public LogCapture Logs => logs;

        public static Target Start(Action<MailerAppFactory>? configure = null)
        {
            var logs = new LogCapture();
            var factory = new MailerAppFactory
            {
                Time = new FakeTimeProvider(Now),
                ConfigureTestServices = services =>
                {
                    services.AddSingleton<ILoggerProvider>(logs);
                    services.AddSingleton<IStartupFilter, ClientAddressFromHeader>();
                },
            };
            factory.Settings["Logging:LogLevel:Default"] = "Information";    // as appsettings.json ships
            factory.Settings["Logging:LogLevel:Mailer"] = "Debug";           // and the service's own lines, all of them
            factory.Settings["Subscribers:SignupsPerClient"] = "100000";     // the rate limit has its own tests
            factory.Settings["Hangfire:DashboardUser"] = DashboardUser;
            factory.Settings["Hangfire:DashboardPassword"] = DashboardPassword;
            configure?.Invoke(factory);
            var app = factory.WithWebHostBuilder(builder => builder.UseEnvironment("Production"));
            app.UseKestrel(0);
            app.StartServer();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new Target(factory, app, new IPEndPoint(IPAddress.Loopback, address.Port), logs);
        }

        public async ValueTask DisposeAsync()
        {
            await app.DisposeAsync();
            await factory.DisposeAsync();
        }
    }

    /// <summary>A pending, a confirmed (everything done), an unsubscribed and an erased subscriber, and their links.</summary>
    private static async Task<(AttackSurface Surface, Addresses Addresses)> SeedAsync(IServiceProvider services, IPEndPoint server)
    {
        var store = services.GetRequiredService<ISubscriberStore>();
        var tokens = services.GetRequiredService<LinkTokens>();
        var addresses = new Addresses("pending.person@example.org", "confirmed.person@example.org", "unsubscribed.person@example.org");
        async Task<long> SignUpAsync(string email) =>
            (await store.SignUpAsync(new Signup(email, "de", ["facebook", "instagram"], ConsentSource.Api, "2024-05", null, null), Now, TimeSpan.FromMinutes(10), Cancel)).SubscriberId;

        var pending = await SignUpAsync(addresses.Pending);
        var confirmed = await SignUpAsync(addresses.Confirmed);
        await store.ConfirmAsync(confirmed, Now, null, Cancel);
        await store.MarkDoneAsync(confirmed, "facebook", Now, LinkClient.Unknown, Cancel);
        await store.MarkDoneAsync(confirmed, "instagram", Now, LinkClient.Unknown, Cancel);
        var unsubscribed = await SignUpAsync(addresses.Unsubscribed);
        await store.ConfirmAsync(unsubscribed, Now, null, Cancel);
        await store.UnsubscribeAsync(unsubscribed, Now, Cancel);
        const long erased = 424242;

        var owners = new Dictionary<string, long> { ["pending"] = pending, ["confirmed"] = confirmed, ["unsubscribed"] = unsubscribed, ["erased"] = erased };
        var valid = (from owner in owners
                     from purpose in Enum.GetValues<TokenPurpose>()
                     select new IssuedToken(purpose, owner.Key, tokens.Issue(purpose, owner.Value, purpose == TokenPurpose.Confirm ? Now.AddDays(7) : null))).ToList();
        string ValidOf(string owner, TokenPurpose purpose) => valid.Single(t => t.Owner == owner && t.Purpose == purpose).Token;

        var harmless = new Dictionary<TokenPurpose, IReadOnlyList<string>>
        {
            [TokenPurpose.Confirm] = [ValidOf("confirmed", TokenPurpose.Confirm), ValidOf("unsubscribed", TokenPurpose.Confirm), ValidOf("erased", TokenPurpose.Confirm)],
            [TokenPurpose.Unsubscribe] = [ValidOf("unsubscribed", TokenPurpose.Unsubscribe), ValidOf("erased", TokenPurpose.Unsubscribe)],
            [TokenPurpose.Click] = [ValidOf("unsubscribed", TokenPurpose.Click), ValidOf("erased", TokenPurpose.Click)],
            [TokenPurpose.Done] = [ValidOf("confirmed", TokenPurpose.Done), ValidOf("unsubscribed", TokenPurpose.Done), ValidOf("erased", TokenPurpose.Done)],
        };
        var expired = from id in new[] { pending, confirmed, unsubscribed }
                      from purpose in Enum.GetValues<TokenPurpose>()
                      select tokens.Issue(purpose, id, Now.AddHours(-1));
        // The unsubscribed subscriber's signature on the others' ids: what someone does with their own link.
        var moved = from purpose in Enum.GetValues<TokenPurpose>()
                    from victim in new[] { pending, confirmed }
                    select System.Buffers.Text.Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{(int)purpose}.{victim}.0")) + "."
                        + ValidOf("unsubscribed", purpose).Split('.')[1];

        // The confirm and unsubscribe buttons carry an antiforgery pair (the signup form has none): the confirmed
        // subscriber's unsubscribe page hands one out, and opening it changes nothing.
        var page = await RawHttp.SendAsync(server, RawHttp.Build("GET", "/unsubscribe/" + ValidOf("confirmed", TokenPurpose.Unsubscribe),
            [(HostileRequests.TestClient, "192.0.2.10")], null), TimeSpan.FromSeconds(30));
        var cookie = page.Headers.First(h => h.Key.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase) && h.Value.StartsWith("mailer-antiforgery=", StringComparison.Ordinal)).Value.Split(';')[0];
        var field = MailerAppFactory.AntiforgeryField(page.Text).Value;
        return (new AttackSurface(harmless, valid, [.. expired, .. moved], cookie, field), addresses);
    }

    /// <summary>Everything a request could have changed: the subscribers, their consents and their link events.</summary>
    private static async Task<string> SnapshotAsync(IServiceProvider services)
    {
        await using var connection = await services.GetRequiredService<Database>().OpenAsync(Cancel);
        var parts = new List<string>();
        foreach (var table in new[] { "subscribers", "consents", "link_events" })
        {
            var rows = await connection.QueryAsync($"SELECT * FROM {table} ORDER BY id");
            parts.AddRange(rows.Select(row => table + ": " + string.Join(", ", ((IDictionary<string, object?>)row).Select(c => $"{c.Key}={c.Value}"))));
        }

        return string.Join("\n", parts);
    }

    /// <summary>Sets the client's address from <see cref="HostileRequests.TestClient"/>, as forwarded headers would behind a proxy; without one, a stranger's.</summary>
    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = context.Request.Headers.Remove(HostileRequests.TestClient, out var value)
                    && IPAddress.TryParse(value.ToString(), out var address) ? address : IPAddress.Parse("192.0.2.1");
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
