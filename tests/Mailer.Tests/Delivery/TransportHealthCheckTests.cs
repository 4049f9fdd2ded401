using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Delivery;

public class TransportHealthCheckTests
{
    private static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(15);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<HealthCheckResult> CheckAsync(TransportHealthCheck check) =>
        check.CheckHealthAsync(
            new HealthCheckContext { Registration = new HealthCheckRegistration("transport", check, HealthStatus.Unhealthy, null) },
            Cancel);

    [Fact]
    public async Task EveryAnswer_HealthyOrNot_IsKeptForTheCacheDuration()
    {
        var time = new FakeTimeProvider(TestMails.Now);
        var server = await TestSmtpServer.StartAsync();
        var port = server.Port;
        var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), time, NullLogger<SmtpTransport>.Instance);
        var check = new TransportHealthCheck(transport, time, Options.Create(new HostingOptions { HealthCacheDuration = CacheDuration }));

        var healthy = await CheckAsync(check);
        await server.DisposeAsync();
        var remembered = await CheckAsync(check);
        time.Advance(CacheDuration);
        var gone = await CheckAsync(check);
        await using var back = await TestSmtpServer.StartAsync(port);
        var stillRemembered = await CheckAsync(check);
        time.Advance(CacheDuration);
        var again = await CheckAsync(check);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(transport.Describe(), healthy.Description);
        Assert.Equal(HealthStatus.Healthy, remembered.Status);
        Assert.Equal(HealthStatus.Unhealthy, gone.Status);
        Assert.StartsWith(transport.Describe(), gone.Description);
        Assert.Equal(HealthStatus.Unhealthy, stillRemembered.Status);
        Assert.Equal(HealthStatus.Healthy, again.Status);
        Assert.Equal(1, back.Connections);
    }
}
