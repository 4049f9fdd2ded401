using System.Net;
using System.Net.Http.Json;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Hosting;

/// <summary>
/// Mailer behind Debian's nginx on the same host (<c>deploy/nginx/</c>), with <c>Hosting:KnownProxies:0=127.0.0.1</c>:
/// visitors are told apart by the address nginx forwards, and only nginx is believed. Visitors are loopback addresses
/// other than 127.0.0.1 (all of 127.0.0.0/8 is this machine), so nginx, the one known proxy, is the only 127.0.0.1.
/// </summary>
public class ReverseProxyTests
{
    private static Dictionary<string, string?> BehindNginx() => new() { ["Hosting:KnownProxies:0"] = "127.0.0.1" };

    private static Task<HttpResponseMessage> PostSignupAsync(HttpClient client, string email, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe")
        {
            Content = JsonContent.Create(new { email, platforms = new[] { "facebook" }, locale = "de" }),
        };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return client.SendAsync(request, Cancel);
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task ThroughNginx_EachVisitorHasItsOwnRateLimit_AndTheConsentHoldsTheVisitorsAddress(string provider)
    {
        await using var proxied = await ProxiedApp.StartAsync(BehindNginx(), provider);
        var visitorA = proxied.ThroughNginx("127.0.0.2");
        var visitorB = proxied.ThroughNginx("127.0.0.3");

        for (var i = 0; i < 10; i++)
        {
            var accepted = await PostSignupAsync(visitorA, $"a{i}@example.de");
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"A's signup {i}: {(int)accepted.StatusCode} {proxied.Nginx.ErrorLog()}");
        }

        var eleventh = await PostSignupAsync(visitorA, "a10@example.de");
        // B claims in its own X-Forwarded-For to be A: nginx appends B's real address, and only that last entry counts.
        var first = await PostSignupAsync(visitorB, "b@example.de", forwardedFor: "127.0.0.2");

        Assert.Equal(HttpStatusCode.TooManyRequests, eleventh.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("127.0.0.3", await proxied.ConsentIpAsync("b@example.de"));
        Assert.Equal("127.0.0.2", await proxied.ConsentIpAsync("a0@example.de"));
    }

    [Fact]
    public async Task AForgedForwardedFor_SentStraightToMailer_ChangesNeitherTheRateLimitNorTheConsent()
    {
        // 127.0.0.2 is loopback, which the framework's defaults would trust; only Hosting:KnownProxies counts.
        await using var proxied = await ProxiedApp.StartAsync(BehindNginx());
        var forger = proxied.Straight("127.0.0.2");

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostSignupAsync(forger, $"f{i}@example.de", forwardedFor: $"198.51.100.{i + 1}")).StatusCode);
        }

        var eleventh = await PostSignupAsync(forger, "f10@example.de", forwardedFor: "198.51.100.77");

        Assert.Equal(HttpStatusCode.TooManyRequests, eleventh.StatusCode);
        Assert.Equal("127.0.0.2", await proxied.ConsentIpAsync("f0@example.de"));
        Assert.Equal("127.0.0.2", await proxied.ConsentIpAsync("f9@example.de"));
    }

    [Fact]
    public async Task WithoutKnownProxies_NothingForwardedIsBelieved_EvenFromNginx()
    {
        await using var proxied = await ProxiedApp.StartAsync([]);

        Assert.Equal(HttpStatusCode.Accepted, (await PostSignupAsync(proxied.ThroughNginx("127.0.0.2"), "someone@example.de")).StatusCode);

        Assert.Equal("127.0.0.1", await proxied.ConsentIpAsync("someone@example.de"));
    }

    [Theory]
    [InlineData("Hosting:KnownProxies:0", "10.0.0.300")]
    [InlineData("Hosting:KnownProxies:1", "10.0.0.0/8")]
    [InlineData("Hosting:KnownNetworks:0", "10.0.0.1/8")]
    [InlineData("Hosting:KnownNetworks:0", "proxy.example.org")]
    [InlineData("Hosting:HealthCacheDuration", "00:00:00")]
    public async Task ABadProxySetting_StopsTheStart_NamingTheKey(string key, string value)
    {
        await using var app = new MailerAppFactory { Settings = { ["Hosting:KnownProxies:0"] = "127.0.0.1", [key] = value } };

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(error.Failures, failure => failure.Contains(key, StringComparison.Ordinal) && failure.Contains(value, StringComparison.Ordinal)
            || key == "Hosting:HealthCacheDuration" && failure.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSchemeAndAddress_ComeFromTheHeaders_OnlyOnAConnectionFromAKnownProxy()
    {
        await using var app = new MailerAppFactory
        {
            Settings = { ["Hosting:KnownNetworks:0"] = "10.1.0.0/16" },
            ConfigureTestServices = services => services.AddSingleton<IStartupFilter, EchoWhatTheAppSees>(),
        };

        Assert.Equal("https 203.0.113.9", await SeenAsync(app.CreateClientFrom("10.1.2.3")));
        Assert.Equal("http 10.2.0.1", await SeenAsync(app.CreateClientFrom("10.2.0.1")));
        Assert.Equal("http 127.0.0.1", await SeenAsync(app.CreateClientFrom("127.0.0.1")));
    }

    private static async Task<string> SeenAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, EchoWhatTheAppSees.Path);
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("X-Forwarded-Proto", "https");
        return await (await client.SendAsync(request, Cancel)).BodyAsync();
    }

    /// <summary>Answers <see cref="Path"/>, after the whole application's pipeline, with the scheme and client address it sees.</summary>
    private sealed class EchoWhatTheAppSees : IStartupFilter
    {
        public const string Path = "/test/seen";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Run(context => context.Request.Path == Path
                ? context.Response.WriteAsync($"{context.Request.Scheme} {context.Connection.RemoteIpAddress}")
                : Task.CompletedTask);
        };
    }
}
