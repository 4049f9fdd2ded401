using System.Net;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// Signups behind a load balancer: two instances on one PostgreSQL database with the same <c>Mailer:SigningKey</c>,
/// so a request may reach either and a link made by one works on the other.
/// </summary>
public sealed class ScaleOutSignupTests
{
    [Fact]
    public async Task OneAddressSignedUpOnBothInstancesAtOnce_IsOneSubscriber_AndItsLinksWorkOnEither()
    {
        await using var postgres = await PostgresTestDatabase.CreateAsync();
        var clock = Clock();
        await using var a = Instance(postgres, clock);
        await using var b = Instance(postgres, clock);

        var signups = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            (i % 2 == 0 ? a : b).CreateClientFrom($"203.0.113.{i + 1}").PostSignupAsync("anna@example.de")));
        await a.RunConfirmationJobsAsync();
        await b.RunConfirmationJobsAsync();

        Assert.All(signups, response => Assert.Equal(HttpStatusCode.Accepted, response.StatusCode));
        Assert.Equal(new RowCounts(1, 12, 0), await b.CountRowsAsync());
        var mail = Assert.Single(a.ConfirmationMails.All.Concat(b.ConfirmationMails.All));

        var confirmed = await b.CreateClientFrom("198.51.100.1").ConfirmWithButtonAsync(mail.ConfirmUrl);
        var left = await a.CreateClientFrom("198.51.100.2").PostAsync(MailerAppFactory.PathOf(mail.UnsubscribeUrl), OneClickBody(), Cancel);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (confirmed.StatusCode, left.StatusCode));
        var subscriber = (await a.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        Assert.Equal((SubscriberStatus.Unsubscribed, Start), (subscriber.Status, subscriber.ConfirmedAt));
    }

    [Fact]
    public async Task TheUnsubscribePageOpenedOnOneInstance_CanBeSentToTheOther()
    {
        await using var postgres = await PostgresTestDatabase.CreateAsync();
        await using var a = Instance(postgres, Clock());
        await using var b = Instance(postgres, Clock());
        var id = await ConfirmedSubscriberAsync(a, "anna@example.de");
        var path = MailerAppFactory.PathOf(a.Links.UnsubscribeUrl(id));

        // The page and its antiforgery cookie come from A; the button's form goes to B, as a load balancer may send it.
        var page = await a.CreateClient().GetAsync(path, Cancel);
        var cookie = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("mailer-antiforgery=", StringComparison.Ordinal)).Split(';')[0];
        using var post = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(await page.BodyAsync())]),
        };
        post.Headers.Add("Cookie", cookie);
        var response = await b.CreateClient().SendAsync(post, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await a.Store.FindAsync(id, Cancel))!.Status);
    }

    private static MailerAppFactory Instance(PostgresTestDatabase postgres, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock)
    {
        var app = new MailerAppFactory { Time = clock };
        foreach (var (key, value) in postgres.Settings(hangfire: true))
        {
            app.Settings[key] = value;
        }

        return app;
    }
}
