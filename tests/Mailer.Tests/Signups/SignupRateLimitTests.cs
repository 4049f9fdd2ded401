using System.Net;
using Mailer.Signups;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

public class SignupRateLimitTests
{
    [Fact]
    public async Task Signup_ThousandRequestsFromOneClient_AreLimitedWith429AndRetryAfter()
    {
        await using var app = new MailerAppFactory();
        var client = app.CreateClientFrom("198.51.100.1");

        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => client.PostSignupAsync($"person{i}@example.de")));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(990, limited.Count);
        Assert.All(limited, r => Assert.InRange(int.Parse(r.Headers.GetValues("Retry-After").Single()), 1, 60));
        Assert.Equal("application/problem+json", limited[0].Content.Headers.ContentType!.MediaType);
        Assert.Equal(new RowCounts(10, 10, 0), await app.CountRowsAsync());

        var otherClient = await app.CreateClientFrom("198.51.100.2").PostSignupAsync("someone@example.de");
        Assert.Equal(HttpStatusCode.Accepted, otherClient.StatusCode);
    }

    [Fact]
    public async Task Signup_RateLimit_IsConfigurable_AndTheFormGetsAPage()
    {
        await using var app = new MailerAppFactory { Settings = { ["Subscribers:SignupsPerClient"] = "1" } };
        var client = app.CreateClientFrom("198.51.100.1");

        Assert.Equal(HttpStatusCode.OK, (await client.SubmitSignupFormAsync("one@example.de", ["facebook"])).StatusCode);
        var second = await client.SubmitSignupFormAsync("two@example.de", ["facebook"]);

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("Zu viele Versuche", await second.BodyAsync());
        Assert.True(second.Headers.Contains("Retry-After"));
        Assert.Equal(1, (await app.CountRowsAsync()).Subscribers);
    }

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    public void RateLimit_CountsIPv4AddressesAndIPv6Networks(string address, string key)
    {
        Assert.Equal(key, SignupSetup.ClientKey(IPAddress.Parse(address)));
    }
}
