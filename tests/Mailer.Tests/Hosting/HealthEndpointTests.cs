using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Hosting;

/// <summary>
/// <c>/healthz</c> (everything, the relay included), <c>/healthz/ready</c> (can serve signups: the store),
/// <c>/healthz/live</c> (the process answers): a bare status for the public, the checks for callers the dashboard admits.
/// </summary>
public class HealthEndpointTests
{
    private const string User = "operator";
    private const string Password = "Operator-Password-1";

    private static MailerAppFactory App(int smtpPort, FakeTimeProvider? time = null) => new()
    {
        Time = time,
        Settings =
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
            ["Hangfire:DashboardUser"] = User,
            ["Hangfire:DashboardPassword"] = Password,
            ["Hosting:KnownProxies:0"] = "127.0.0.1",
        },
    };

    [Fact]
    public async Task Healthz_ForThePublic_IsABareStatus_WithoutHostPathOrError()
    {
        await using var app = App(ExternalProgram.FreePort());
        await using var pickup = new MailerAppFactory { Settings = { ["Smtp:Host"] = "" } };

        var down = await app.CreateClientFrom("203.0.113.5").GetAsync("/healthz", Cancel);
        var healthy = await pickup.CreateClientFrom("203.0.113.5").GetAsync("/healthz", Cancel);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("""{"status":"Unhealthy"}""", await down.BodyAsync());
        Assert.Empty(down.Headers.WwwAuthenticate);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal("""{"status":"Healthy"}""", await healthy.BodyAsync());
    }

    [Fact]
    public async Task Healthz_ThroughNginx_FromAnotherAddress_IsABareStatus()
    {
        await using var proxied = await ProxiedApp.StartAsync(new() { ["Hosting:KnownProxies:0"] = "127.0.0.1" });

        var answer = await proxied.ThroughNginx("127.0.0.2").GetAsync("/healthz", Cancel);
        var straight = await proxied.Straight("127.0.0.2").GetAsync("/healthz", Cancel);

        Assert.Equal("""{"status":"Healthy"}""", await answer.BodyAsync());
        Assert.Contains("\"checks\"", await straight.BodyAsync());
    }

    [Fact]
    public async Task Healthz_ForACallerTheDashboardAdmits_ShowsTheChecks()
    {
        var port = ExternalProgram.FreePort();
        await using var app = App(port);
        var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));

        var local = await (await app.CreateClientFrom("::1").GetAsync("/healthz", Cancel)).BodyAsync();
        var withPassword = await (await app.CreateClientFrom("203.0.113.5").SendAsync(request, Cancel)).BodyAsync();

        foreach (var body in new[] { local, withPassword })
        {
            Assert.Contains("\"store\":{\"status\":\"Healthy\"", body);
            Assert.Contains($"\"transport\":{{\"status\":\"Unhealthy\",\"description\":\"smtp 127.0.0.1:{port}", body);
        }
    }

    [Fact]
    public async Task Ready_StaysHealthy_WithTheSmtpServerDown_AndLiveAnswers()
    {
        await using var app = App(ExternalProgram.FreePort());
        var client = app.CreateClientFrom("203.0.113.5");

        var ready = await client.GetAsync("/healthz/ready", Cancel);
        var live = await client.GetAsync("/healthz/live", Cancel);
        var all = await client.GetAsync("/healthz", Cancel);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("""{"status":"Healthy"}""", await ready.BodyAsync());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, all.StatusCode);
    }

    [Fact]
    public async Task TransportCheck_DuringARelayOutage_OpensOneConnectionPerCacheDuration()
    {
        await using var relay = await RefusingRelay.StartAsync();
        var time = Clock();
        await using var app = App(relay.Port, time);
        app.Settings["Hosting:HealthCacheDuration"] = "00:00:15";
        var client = app.CreateClientFrom("203.0.113.5");

        var together = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.GetAsync("/healthz", Cancel)));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz", Cancel)).StatusCode);
        }

        var withinTheCacheTime = await relay.ConnectionsSoFarAsync();
        time.Advance(TimeSpan.FromSeconds(15));
        await client.GetAsync("/healthz", Cancel);
        await client.GetAsync("/healthz", Cancel);
        var afterIt = await relay.ConnectionsSoFarAsync();

        Assert.All(together, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        Assert.Equal(1, withinTheCacheTime);
        Assert.Equal(2, afterIt);
    }

    /// <summary>A relay that is down: it greets every connection with 421 and hangs up, and counts them.</summary>
    private sealed class RefusingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;
        private int _sentinels;
        private Task _loop = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<RefusingRelay> StartAsync()
        {
            var relay = new RefusingRelay();
            relay._listener.Start();
            relay._loop = relay.AcceptAsync();
            return Task.FromResult(relay);
        }

        /// <summary>
        /// The connections the application opened so far: a connection of our own is greeted only after every earlier
        /// one was accepted (the listener takes them in order), so its greeting says the count is complete.
        /// </summary>
        public async Task<int> ConnectionsSoFarAsync()
        {
            using var sentinel = new TcpClient();
            await sentinel.ConnectAsync(IPAddress.Loopback, Port, Cancel);
            using var reader = new StreamReader(sentinel.GetStream());
            Assert.StartsWith("421", await reader.ReadLineAsync(Cancel));
            return Volatile.Read(ref _accepted) - Interlocked.Increment(ref _sentinels);
        }

        private async Task AcceptAsync()
        {
            var greeting = "421 4.3.2 Service not available\r\n"u8.ToArray();
            try
            {
                while (true)
                {
                    using var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    try
                    {
                        await connection.GetStream().WriteAsync(greeting, _stop.Token);
                    }
                    catch (Exception e) when (e is IOException or SocketException)
                    {
                        // The client hung up first; it still counted.
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }
    }
}
