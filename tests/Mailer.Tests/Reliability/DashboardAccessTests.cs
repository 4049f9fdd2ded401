using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mailer.Tests.Support;
using static Mailer.Tests.Subscribers.TestSteps;

namespace Mailer.Tests.Reliability;

/// <summary>
/// <c>/hangfire</c> shows and changes the campaign's jobs: open to this machine, to others only with the configured
/// Basic credentials, and only through the public https name when there is one.
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
        },
    };

    private static HttpRequestMessage Get(string path, string? credentials = null, string host = "localhost")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}{path}");
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
    [InlineData("127.0.0.1")]
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
}
