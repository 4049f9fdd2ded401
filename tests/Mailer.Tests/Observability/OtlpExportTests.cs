using System.Net;
using System.Text;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Observability;

/// <summary>
/// <c>Otlp:Endpoint</c>: the metrics posted as OTLP/HTTP protobuf to a collector, here a Kestrel server of the test's own
/// that takes <c>POST /v1/metrics</c> as a collector does; a wrong address stops the start and names the key.
/// </summary>
public class OtlpExportTests
{
    [Fact]
    public async Task WithOtlpEndpoint_TheMetricsArePostedToItsV1Metrics_AsProtobuf()
    {
        var port = ExternalProgram.FreePort();
        var received = new TaskCompletionSource<(string? ContentType, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var collector = await StartCollectorAsync(port, received);
        await using var app = new MailerAppFactory
        {
            Settings = { ["Otlp:Endpoint"] = $"http://127.0.0.1:{port}", ["Otlp:ExportInterval"] = "00:00:01" },
        };

        await app.CreateClientFrom("198.51.100.7").PostSignupAsync("anna@example.de");
        var (contentType, body) = await received.Task.WaitAsync(TimeSpan.FromSeconds(60), Cancel);

        Assert.Equal("application/x-protobuf", contentType);
        // Protobuf carries strings as their UTF-8 bytes: the scope (the meter) and the instrument are there by name.
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("Mailer", text);
        Assert.Contains("mailer.signups", text);
    }

    [Theory]
    [InlineData("collector:4318")]
    [InlineData("ftp://collector.example.org")]
    [InlineData("/v1/metrics")]
    [InlineData("http://collector.example.org:4318/?token=secret")]
    public async Task AnOtlpEndpointThatIsNoHttpAddress_StopsTheStart_NamingTheKey(string endpoint)
    {
        await using var app = new MailerAppFactory { Settings = { ["Otlp:Endpoint"] = endpoint } };

        var error = Assert.ThrowsAny<OptionsValidationException>(() => app.Server);

        Assert.Contains("Otlp:Endpoint", error.Message);
    }

    /// <summary>A stand-in collector: answers every <c>POST /v1/metrics</c> 200 and hands the first one's body to <paramref name="received"/>.</summary>
    private static async Task<WebApplication> StartCollectorAsync(int port, TaskCompletionSource<(string? ContentType, byte[] Body)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (Encoding.UTF8.GetString(bytes).Contains("mailer.signups", StringComparison.Ordinal))
            {
                received.TrySetResult((request.ContentType, bytes));
            }

            return Results.StatusCode((int)HttpStatusCode.OK);
        });
        await collector.StartAsync(Cancel);
        return collector;
    }
}
