using System.Net;
using Dapper;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Links;

public class PlatformLinkTests
{
    [Fact]
    public async Task Go_RecordsTheClickAndRedirectsToTheConfiguredForm()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.GetAsync(MailerAppFactory.PathOf(app.Links.ClickUrl(id, "facebook")), Cancel);
        var shouting = await client.GetAsync(MailerAppFactory.PathOf(app.Links.ClickUrl(id, "facebook")).Replace("/facebook", "/INSTAGRAM"), Cancel);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("https://www.facebook.com/help/contact/712876720715583", response.Headers.Location!.ToString());
        Assert.Equal("https://help.instagram.com/contact/767264225370182", shouting.Headers.Location!.ToString());
        var events = await app.Store.LinkEventsAsync(id, Cancel);
        Assert.Equal([("click", "facebook"), ("click", "instagram")], events.Select(e => (e.Kind, e.Platform)));
        Assert.Equal(Start, events[0].At);
    }

    [Fact]
    public async Task Go_RecordsTheClientsAddressAndUserAgent_WithTheClick()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        using var client = app.CreateClientFrom("203.0.113.9");
        client.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Android 14)");

        var response = await client.GetAsync(MailerAppFactory.PathOf(app.Links.ClickUrl(id, "facebook")), Cancel);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        await using var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel);
        var recorded = await connection.QuerySingleAsync<(string? ClientIp, string? UserAgent)>(
            "SELECT client_ip, user_agent FROM link_events WHERE subscriber_id = @id", new { id });
        Assert.Equal(("203.0.113.9", "Mozilla/5.0 (Android 14)"), recorded);
    }

    [Theory]
    [InlineData("tiktok")]
    [InlineData("https:%2F%2Fevil.example")]
    [InlineData("facebook.evil.example")]
    public async Task Go_ToAPlatformNotConfigured_Returns404AndRecordsNothing(string platform)
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var token = Token(app.Links.ClickUrl(id, "facebook"));

        var response = await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false })
            .GetAsync($"/go/{token}/{platform}", Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Empty(await app.Store.LinkEventsAsync(id, Cancel));
    }

    [Fact]
    public async Task Done_GetShowsTheButton_PostRecordsThePlatformOnce()
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var path = MailerAppFactory.PathOf(app.Links.DoneUrl(id, "facebook"));
        var client = app.CreateClient();

        var page = await client.GetStringAsync(path, Cancel);
        Assert.Contains("Ich habe bei Facebook widersprochen", page);
        Assert.Empty((await app.Store.FindAsync(id, Cancel))!.DonePlatforms);

        var response = await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);
        var again = await client.PostAsync(path, new FormUrlEncodedContent([MailerAppFactory.AntiforgeryField(page)]), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("bei Facebook widersprochen hast", await response.BodyAsync());
        var subscriber = (await app.Store.FindAsync(id, Cancel))!;
        Assert.Equal(["facebook"], subscriber.DonePlatforms);
        Assert.Equal(["instagram"], subscriber.OpenPlatforms);
        var done = Assert.Single(await app.Store.LinkEventsAsync(id, Cancel));
        Assert.Equal(("done", "facebook", Start), (done.Kind, done.Platform, done.At));
        Assert.Contains("bei Facebook widersprochen hast", await client.GetStringAsync(path, Cancel));
    }

    [Fact]
    public async Task Done_PostWithoutAntiforgery_Returns400AndRecordsNothing()
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");

        var response = await app.CreateClient().PostAsync(MailerAppFactory.PathOf(app.Links.DoneUrl(id, "instagram")),
            new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await app.Store.FindAsync(id, Cancel))!.DonePlatforms);
        Assert.Empty(await app.Store.LinkEventsAsync(id, Cancel));
    }
}
