using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Hosting;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Dashboard;

/// <summary>
/// <c>/hangfire</c> shows and changes the campaign's jobs: open to this machine, to others only with the configured
/// Basic credentials, and only through the public https name when there is one. A request through a reverse proxy is
/// never from this machine, though the proxy connects from loopback.
/// </summary>
public class DashboardAccessTests
{
    private const string User = "operator";
    private const string Password = "Operator-Password-1";

    private static MailerAppFactory App(string publicBaseUrl = "http://localhost:5000") => new()
    {
        Settings =
        {
            ["Hangfire:DashboardUser"] = User,
            ["Hangfire:DashboardPassword"] = Password,
            ["Mailer:PublicBaseUrl"] = publicBaseUrl,
            ["Hosting:KnownProxies:0"] = "127.0.0.1",
        },
    };

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Hangfire:DashboardUser"] = User,
        ["Hangfire:DashboardPassword"] = Password,
        ["Hosting:KnownProxies:0"] = "127.0.0.1",
    };

    private static HttpRequestMessage Get(string path, string? credentials = null, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, host is null ? path : $"http://{host}{path}");
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        return request;
    }

    public static TheoryData<string, string?> Refused() => new()
    {
        { "no credentials", null },
        { "wrong password", $"{User}:wrong" },
        { "wrong user", $"admin:{Password}" },
        { "password only", Password },
        { "empty", ":" },
        { "password with a space after it", $"{User}:{Password} " },
        { "user in capitals", $"{User.ToUpperInvariant()}:{Password}" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Dashboard_FromAnotherMachine_WithoutTheRightCredentials_IsRefused(string name, string? credentials)
    {
        await using var app = App();
        var client = app.CreateClientFrom("203.0.113.5");

        foreach (var path in new[] { "/hangfire", "/hangfire/jobs/enqueued", "/hangfire/recurring", "/HANGFIRE/servers" })
        {
            var response = await client.SendAsync(Get(path, credentials), Cancel);
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{name}, {path}: {(int)response.StatusCode}");
            Assert.DoesNotContain("Mailer jobs", await response.BodyAsync());
        }
    }

    [Fact]
    public async Task Dashboard_FromAnotherMachine_WithoutCredentials_CannotTriggerAJob()
    {
        await using var app = App();

        var response = await app.CreateClientFrom("203.0.113.5").PostAsync("/hangfire/recurring/trigger",
            new FormUrlEncodedContent([new("jobs[]", "dispatch")]), Cancel);

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{(int)response.StatusCode}");
    }

    [Fact]
    public async Task Dashboard_FromAnotherMachine_WithTheRightCredentials_Opens()
    {
        await using var app = App();

        var response = await app.CreateClientFrom("203.0.113.5").SendAsync(Get("/hangfire", $"{User}:{Password}"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Mailer jobs", await response.BodyAsync());
    }

    [Theory]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    public async Task Dashboard_FromThisMachine_OpensWithoutCredentials(string address)
    {
        await using var app = App();

        var response = await app.CreateClientFrom(address).SendAsync(Get("/hangfire"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_BehindAnHttpsName_RefusesTheRightCredentialsUnderAnotherHostName()
    {
        await using var app = App("https://kampagne.example.org");
        var client = app.CreateClientFrom("203.0.113.5");

        var elsewhere = await client.SendAsync(Get("/hangfire", $"{User}:{Password}", host: "203.0.113.1"), Cancel);
        var throughTheName = await client.SendAsync(Get("/hangfire", $"{User}:{Password}", host: "kampagne.example.org"), Cancel);

        Assert.True(elsewhere.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{(int)elsewhere.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, throughTheName.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ThroughNginx_FromAnotherAddress_WithoutCredentials_IsRefused_ButOpensStraightFromThisMachine()
    {
        await using var proxied = await ProxiedApp.StartAsync(Settings());

        var throughNginx = await proxied.ThroughNginx("127.0.0.2").SendAsync(Get("/hangfire"), Cancel);
        var trigger = await proxied.ThroughNginx("127.0.0.2").PostAsync("/hangfire/recurring/trigger",
            new FormUrlEncodedContent([new("jobs[]", "dispatch")]), Cancel);
        var straight = await proxied.Straight("127.0.0.2").SendAsync(Get("/hangfire"), Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, throughNginx.StatusCode);
        Assert.True(throughNginx.Headers.WwwAuthenticate.Count > 0, "no Basic challenge");
        Assert.True(trigger.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"trigger: {(int)trigger.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, straight.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ThroughNginx_OpensWithTheRightCredentialsOnly()
    {
        await using var proxied = await ProxiedApp.StartAsync(Settings());
        var visitor = proxied.ThroughNginx("127.0.0.2");

        var right = await visitor.SendAsync(Get("/hangfire", $"{User}:{Password}"), Cancel);
        var wrong = await visitor.SendAsync(Get("/hangfire", $"{User}:wrong"), Cancel);

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("Mailer jobs", await right.BodyAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "127.0.0.1")]
    [InlineData("X-Forwarded-For", "203.0.113.5")]
    [InlineData("Forwarded", "for=127.0.0.1")]
    [InlineData("X-Real-IP", "127.0.0.1")]
    public async Task Dashboard_ARequestCarryingAProxyHeader_IsNeverFromThisMachine(string header, string value)
    {
        await using var app = App();
        var request = Get("/hangfire");
        request.Headers.TryAddWithoutValidation(header, value);

        var response = await app.CreateClientFrom("127.0.0.2").SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_FromTheKnownProxysAddress_IsNotFromThisMachine_EvenWithoutForwardingHeaders()
    {
        await using var app = App();

        var response = await app.CreateClientFrom("127.0.0.1").SendAsync(Get("/hangfire"), Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
