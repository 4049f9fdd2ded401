using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

public class SignupApiTests
{
    [Fact]
    public async Task Signup_WithJson_Returns202AndStoresPendingSubscriberWithItsConsent()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var client = app.CreateClientFrom("203.0.113.7");
        client.DefaultRequestHeaders.UserAgent.ParseAdd("TestPhone/1.0");

        var response = await client.PostSignupAsync("anna@example.de", ["instagram"], "en");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var subscriber = await app.Store.FindByEmailAsync("anna@example.de", Cancel);
        Assert.NotNull(subscriber);
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Equal("en", subscriber.Locale);
        Assert.Equal(["instagram"], subscriber.Platforms);
        Assert.Equal(Start, subscriber.CreatedAt);
        Assert.Equal(Start, subscriber.ConfirmRequestedAt);
        var consent = Assert.Single(await app.Store.ConsentsAsync(subscriber.Id, Cancel));
        Assert.Equal(ConsentSource.Api, consent.Source);
        Assert.Matches("^2024-05/en/[0-9a-f]{8}$", consent.ConsentTextVersion);
        Assert.Equal(Start, consent.GivenAt);
        Assert.Equal("203.0.113.7", consent.ClientIp);
        Assert.Equal("TestPhone/1.0", consent.UserAgent);
        Assert.Null(consent.ConfirmedAt);
        Assert.Equal(1, app.CapturedJobs.ConfirmationCount);
    }

    [Theory]
    [InlineData("  Max.Muster@Example.DE ", "max.muster@example.de")]
    [InlineData("anna@MÜLLER.de", "anna@müller.de")]
    [InlineData("anna@xn--mller-kva.de", "anna@müller.de")]
    public async Task Signup_NormalizesTheAddress_TrimmedLowerCasedIdnInUnicode(string typed, string stored)
    {
        await using var app = new MailerAppFactory();

        var response = await app.CreateClient().PostSignupAsync(typed);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(await app.Store.FindByEmailAsync(stored, Cancel));
        Assert.Equal(1, (await app.CountRowsAsync()).Subscribers);
    }

    [Fact]
    public async Task Signup_IsAnsweredAlike_ForNewPendingAndConfirmedAddresses()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var client = app.CreateClient();

        var asNew = await client.PostSignupAsync("anna@example.de", ["facebook"]);
        var asPending = await client.PostSignupAsync("anna@example.de", ["facebook"]);
        var subscriber = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!;
        await app.Store.ConfirmAsync(subscriber.Id, Start, null, Cancel);
        var asConfirmed = await client.PostSignupAsync("anna@example.de", ["instagram"], "en");

        Assert.All([asNew, asPending, asConfirmed], r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(await asNew.BodyAsync(), await asPending.BodyAsync());
        var germanBody = await asNew.BodyAsync();
        var englishFromOtherClient = await app.CreateClient().PostSignupAsync("new@example.de", ["instagram"], "en");
        Assert.Equal(await englishFromOtherClient.BodyAsync(), await asConfirmed.BodyAsync());
        Assert.NotEqual(germanBody, await asConfirmed.BodyAsync());

        // The confirmed subscriber's choices are not for an unauthenticated request to change.
        var after = (await app.Store.FindAsync(subscriber.Id, Cancel))!;
        Assert.Equal(SubscriberStatus.Confirmed, after.Status);
        Assert.Equal(["facebook"], after.Platforms);
        Assert.Equal("de", after.Locale);
        Assert.Equal(2, (await app.Store.ConsentsAsync(subscriber.Id, Cancel)).Count);
    }

    [Fact]
    public async Task Signup_OfPendingAddress_SendsAtMostOneConfirmationPerResendAfter()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        var client = app.CreateClient();

        await client.PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        clock.Advance(TimeSpan.FromMinutes(5));
        await client.PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();
        Assert.Single(app.ConfirmationMails.All);
        Assert.Equal(1, app.CapturedJobs.ConfirmationCount);

        clock.Advance(TimeSpan.FromMinutes(5));
        var response = await client.PostSignupAsync("anna@example.de");
        await app.RunConfirmationJobsAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, app.ConfirmationMails.All.Count);
        Assert.Equal(1, (await app.CountRowsAsync()).Subscribers);
    }

    [Fact]
    public async Task Signup_AfterUnsubscribing_StartsOverWithANewConsent()
    {
        var clock = Clock();
        await using var app = new MailerAppFactory { Time = clock };
        var client = app.CreateClient();
        await client.PostSignupAsync("anna@example.de", ["facebook"]);
        var id = (await app.Store.FindByEmailAsync("anna@example.de", Cancel))!.Id;
        await app.Store.ConfirmAsync(id, clock.GetUtcNow(), null, Cancel);
        clock.Advance(TimeSpan.FromDays(1));
        await app.Store.UnsubscribeAsync(id, clock.GetUtcNow(), Cancel);
        clock.Advance(TimeSpan.FromDays(1));

        var response = await client.PostSignupAsync("anna@example.de", ["instagram"]);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var subscriber = (await app.Store.FindAsync(id, Cancel))!;
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Equal(["instagram"], subscriber.Platforms);
        var consents = await app.Store.ConsentsAsync(id, Cancel);
        Assert.Equal(2, consents.Count);
        Assert.Equal(Start + TimeSpan.FromDays(1), consents[0].WithdrawnAt);
        Assert.Null(consents[1].WithdrawnAt);
        Assert.Equal(2, app.CapturedJobs.ConfirmationCount);
    }

    [Fact]
    public async Task Signup_ThroughHangfire_SendsTheConfirmationMailWhoseLinkConfirms()
    {
        await using var app = new MailerAppFactory { CaptureJobs = false };
        var client = app.CreateClient();

        var response = await client.PostAsJsonAsync("/subscribe", new { email = "anna@example.de", platforms = new[] { "facebook" } }, Cancel);
        var mail = await app.ConfirmationMails.NextAsync(TimeSpan.FromSeconds(30), app.DescribeJobs);
        var confirmation = await client.ConfirmWithButtonAsync(mail.ConfirmUrl);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("anna@example.de", mail.Recipient.Email);
        Assert.Equal("de", mail.Recipient.Locale);
        Assert.Equal(HttpStatusCode.OK, confirmation.StatusCode);
        var subscriber = (await app.Store.FindAsync(mail.Recipient.SubscriberId, Cancel))!;
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
    }

    [Fact]
    public async Task OpenApi_DescribesTheJsonEndpointsWithTheirProblemResponses()
    {
        await using var app = new MailerAppFactory();

        using var document = JsonDocument.Parse(await app.CreateClient().GetStringAsync("/openapi/v1.json", Cancel));

        var paths = document.RootElement.GetProperty("paths");
        var subscribe = paths.GetProperty("/subscribe").GetProperty("post");
        Assert.True(subscribe.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        var responses = subscribe.GetProperty("responses");
        foreach (var status in new[] { "202", "400", "413", "415", "429" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"/subscribe lacks {status}");
        }

        Assert.True(responses.GetProperty("400").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.True(paths.GetProperty("/unsubscribe/{token}").TryGetProperty("post", out _));
        Assert.False(paths.TryGetProperty("/", out _));
    }
}
