using Mailer.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Delivery;

public class TransportHealthCheckTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<HealthCheckResult> CheckAsync(TransportHealthCheck check) =>
        check.CheckHealthAsync(
            new HealthCheckContext { Registration = new HealthCheckRegistration("transport", check, HealthStatus.Unhealthy, null) },
            Cancel);

    [Fact]
    public async Task ReachableServer_IsHealthy_AndTheAnswerIsKeptForAMinute()
    {
        var time = new FakeTimeProvider(TestMails.Now);
        var server = await TestSmtpServer.StartAsync();
        var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), time, NullLogger<SmtpTransport>.Instance);
        var check = new TransportHealthCheck(transport, time);

        var healthy = await CheckAsync(check);
        await server.DisposeAsync();
        var remembered = await CheckAsync(check);
        time.Advance(TimeSpan.FromMinutes(1));
        var gone = await CheckAsync(check);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(transport.Describe(), healthy.Description);
        Assert.Equal(HealthStatus.Healthy, remembered.Status);
        Assert.Equal(HealthStatus.Unhealthy, gone.Status);
        Assert.StartsWith(transport.Describe(), gone.Description);
    }
}
