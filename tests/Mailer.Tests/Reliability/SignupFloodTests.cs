using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Reliability;

/// <summary>
/// Floods of signups: one address sending many (the rate limit holds, everyone else still gets in), and one victim's
/// address signed up over and over from everywhere (a subscription bomb: at most one confirmation mail per
/// <c>Subscribers:ResendAfter</c>).
/// </summary>
public class SignupFloodTests
{
    [Fact]
    public async Task ABurstFromOneNetwork_IsHeldToTheLimit_WhileEveryoneElseGetsIn()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        // One attacker's /64 (a phone's or a household's network), from many of its addresses at once.
        var attacker = Enumerable.Range(1, 20).Select(i => app.CreateClientFrom($"2001:db8:bad:1::{i:x}")).ToList();
        var others = Enumerable.Range(1, 60).Select(i => (Client: app.CreateClientFrom($"198.51.100.{i}"), Email: $"person{i}@example.org")).ToList();

        var flood = Enumerable.Range(0, 1000).Select(i => attacker[i % attacker.Count].PostSignupAsync($"flood{i}@example.org"));
        var meanwhile = others.Select(async o =>
        {
            await Task.Yield();
            return await o.Client.PostSignupAsync(o.Email);
        }).ToList();
        var floodAnswers = await Task.WhenAll(flood);
        var otherAnswers = await Task.WhenAll(meanwhile);

        Assert.Equal(10, floodAnswers.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(990, floodAnswers.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(otherAnswers, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(new RowCounts(70, 70, 0), await app.CountRowsAsync());
    }

    [Fact]
    public async Task OneAddressSignedUpAThousandTimesAtOnce_GetsOneConfirmationMail()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var clients = Enumerable.Range(1, 100).Select(i => app.CreateClientFrom($"203.0.113.{i}")).ToList();

        var answers = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => clients[i % clients.Count].PostSignupAsync("victim@example.org")));
        await app.RunConfirmationJobsAsync();

        Assert.All(answers, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(app.ConfirmationMails.All);
        Assert.Equal(1, app.CapturedJobs.ConfirmationCount);
        Assert.Equal(1, (await app.CountRowsAsync()).Subscribers);
    }

    [Fact]
    public async Task OneAddressSignedUpAThousandTimesOverAnHour_GetsAtMostOneConfirmationMailPerResendAfter()
    {
        var time = Clock();
        await using var app = new MailerAppFactory { Time = time };
        var resendAfter = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SubscribersOptions>>().Value.ResendAfter;
        var clients = Enumerable.Range(1, 100).Select(i => app.CreateClientFrom($"203.0.113.{i}")).ToList();
        var mailedAt = new List<DateTimeOffset>();

        for (var i = 0; i < 1000; i++)
        {
            time.Advance(TimeSpan.FromSeconds(3.6));
            Assert.Equal(HttpStatusCode.Accepted, (await clients[i % clients.Count].PostSignupAsync("victim@example.org", locale: i % 2 == 0 ? "de" : "en")).StatusCode);
            var before = app.ConfirmationMails.All.Count;
            await app.RunConfirmationJobsAsync();
            mailedAt.AddRange(Enumerable.Repeat(time.GetUtcNow(), app.ConfirmationMails.All.Count - before));
        }

        Assert.InRange(mailedAt.Count, 2, (int)(TimeSpan.FromHours(1) / resendAfter) + 1);
        Assert.All(mailedAt.Zip(mailedAt.Skip(1)), pair => Assert.True(pair.Second - pair.First >= resendAfter, $"mails at {pair.First:T} and {pair.Second:T}"));
        Assert.Equal(1, (await app.CountRowsAsync()).Subscribers);
    }
}
