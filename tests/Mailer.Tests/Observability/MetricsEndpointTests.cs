using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Observability;

/// <summary>
/// <c>/metrics</c>, the Prometheus scrape: for the callers the dashboard admits and nobody else, and its text as
/// Prometheus's own checker (Debian's <c>promtool check metrics</c>) reads it.
/// </summary>
public class MetricsEndpointTests
{
    private const string User = "operator";
    private const string Password = "Operator-Password-1";

    private static MailerAppFactory App() => new()
    {
        Settings =
        {
            ["Hangfire:DashboardUser"] = User,
            ["Hangfire:DashboardPassword"] = Password,
            ["Hosting:KnownProxies:0"] = "127.0.0.1",
        },
    };

    private static HttpRequestMessage Get(string? credentials = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return request;
    }

    public static TheoryData<string, string, string?, string?> Refused() => new()
    {
        // name, the socket's address, credentials, X-Forwarded-For
        { "another machine without credentials", "203.0.113.5", null, null },
        { "another machine with a wrong password", "203.0.113.5", $"{User}:wrong", null },
        { "another machine with the user only", "203.0.113.5", $"{User}:", null },
        { "through the local proxy, for a visitor", "127.0.0.1", null, "203.0.113.9" },
        { "through the local proxy, claiming loopback", "127.0.0.1", null, "127.0.0.1" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Metrics_ForACallerTheDashboardRefuses_IsRefusedToo(string name, string socket, string? credentials, string? forwardedFor)
    {
        await using var app = App();
        var client = app.CreateClientFrom(socket);

        var metrics = await client.SendAsync(Get(credentials, forwardedFor), Cancel);
        var dashboard = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/hangfire") { Headers = { Authorization = Get(credentials).Headers.Authorization } }
            .WithForwardedFor(forwardedFor), Cancel);

        Assert.True(metrics.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{name}: {(int)metrics.StatusCode}");
        Assert.Equal(dashboard.StatusCode, metrics.StatusCode);
        Assert.DoesNotContain("mailer_", await metrics.BodyAsync());
    }

    [Fact]
    public async Task Metrics_FromAnotherMachine_WithTheDashboardsCredentials_AnswersTheScrape()
    {
        await using var app = App();

        var response = await app.CreateClientFrom("203.0.113.5").SendAsync(Get($"{User}:{Password}"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Metrics_CountSignupsByOutcome_AndConfirmations()
    {
        await using var app = new MailerAppFactory();
        var visitor = app.CreateClientFrom("198.51.100.7");
        await visitor.PostSignupAsync("anna@example.de");
        await visitor.PostSignupAsync("anna@example.de");
        await visitor.PostSignupAsync("not an address");
        await app.RunConfirmationJobsAsync();
        await visitor.ConfirmWithButtonAsync(app.ConfirmationMails.All[0].ConfirmUrl);

        var scrape = await ScrapeAsync(app);

        Assert.Equal(1, scrape.Value("mailer_signups_total", ("outcome", "created")));
        Assert.Equal(1, scrape.Value("mailer_signups_total", ("outcome", "still_pending")));
        Assert.Equal(1, scrape.Value("mailer_signups_total", ("outcome", "rejected")));
        Assert.Equal(1, scrape.Value("mailer_confirmations_total"));
    }

    [Fact]
    public async Task Scrape_PassesPromtoolCheckMetrics_WithoutAProblem()
    {
        var promtool = ExternalProgram.Require("/usr/bin/promtool", "prometheus");
        await using var app = new MailerAppFactory();
        var visitor = app.CreateClientFrom("198.51.100.7");
        await visitor.PostSignupAsync("anna@example.de");
        await visitor.PostSignupAsync("bad");

        var scrape = await ScrapeAsync(app);
        var (exitCode, output) = await ExternalProgram.RunAsync(promtool, ["check", "metrics"], standardInput: scrape.Text);

        TestContext.Current.TestOutputHelper?.WriteLine(scrape.Text);
        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool check metrics: exit {exitCode}\n{output}\n---\n{scrape.Text}");
        Assert.Contains("mailer_signups_total", scrape.Text);
        Assert.Contains("mailer_ledger_waiting", scrape.Text);
    }

    internal static async Task<PrometheusText> ScrapeAsync(MailerAppFactory app)
    {
        var response = await app.CreateClientFrom("127.0.0.1").GetAsync("/metrics", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new PrometheusText(await response.BodyAsync());
    }
}

internal static class ForwardedRequests
{
    public static HttpRequestMessage WithForwardedFor(this HttpRequestMessage request, string? forwardedFor)
    {
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return request;
    }
}
