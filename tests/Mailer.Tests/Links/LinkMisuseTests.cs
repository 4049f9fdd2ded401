using System.Buffers.Text;
using System.Net;
using System.Text;
using Dapper;
using Mailer.Links;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Links;

/// <summary>Links that were made up, changed, moved to another subscriber or purpose, or outlived their subscriber.</summary>
public class LinkMisuseTests
{
    public static TheoryData<string> TamperedTokens() =>
    [
        "nonsense",
        "a.b",
        "Mi4xLjA.AAAAAAAAAAAAAAAAAAAAAA",
        new string('A', 300),
        "%3Cscript%3E",
    ];

    [Theory]
    [MemberData(nameof(TamperedTokens))]
    public async Task Links_WithMadeUpTokens_Show404PagesAndChangeNothing(string token)
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var before = await app.CountRowsAsync();

        foreach (var path in new[] { $"/confirm/{token}", $"/unsubscribe/{token}", $"/go/{token}/facebook", $"/done/{token}/facebook" })
        {
            var response = await client.GetAsync(path, Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            Assert.Contains("Dieser Link funktioniert nicht", await response.BodyAsync());
        }

        var oneClick = await client.PostAsync($"/unsubscribe/{token}", OneClickBody(), Cancel);
        Assert.Equal(HttpStatusCode.NotFound, oneClick.StatusCode);
        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Fact]
    public async Task Token_WithOneCharacterChanged_IsRejected()
    {
        await using var app = new MailerAppFactory();
        var id = await PendingSubscriberAsync(app, "anna@example.de");
        var token = Token(app.Links.ConfirmUrl(id));
        var client = app.CreateClient();

        for (var i = 0; i < token.Length; i++)
        {
            var changed = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            var response = await client.GetAsync($"/confirm/{changed}", Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"position {i}: {response.StatusCode}");
        }

        Assert.Equal(SubscriberStatus.Pending, (await app.Store.FindAsync(id, Cancel))!.Status);
    }

    [Fact]
    public async Task TokenOfSubscriberA_ActsOnlyOnA_AndOnlyForItsPurpose()
    {
        await using var app = new MailerAppFactory();
        var a = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var b = await ConfirmedSubscriberAsync(app, "bob@example.de");
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        // A's signature on B's id.
        var tokenOfA = Token(app.Links.UnsubscribeUrl(a));
        var payloadOfB = Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{(int)TokenPurpose.Unsubscribe}.{b}.0"));
        var moved = await client.PostAsync($"/unsubscribe/{payloadOfB}.{tokenOfA.Split('.')[1]}", OneClickBody(), Cancel);
        Assert.Equal(HttpStatusCode.NotFound, moved.StatusCode);

        // A's other tokens do not unsubscribe, confirm or mark done.
        var doneOfA = Token(app.Links.DoneUrl(a, "facebook"));
        var clickOfA = Token(app.Links.ClickUrl(a, "facebook"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/unsubscribe/{doneOfA}", OneClickBody(), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/unsubscribe/{clickOfA}", OneClickBody(), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/confirm/{tokenOfA}", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/done/{clickOfA}/facebook", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/go/{doneOfA}/facebook", Cancel)).StatusCode);
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(a, Cancel))!.Status);

        // A's own unsubscribe token acts on A alone.
        var own = await client.PostAsync($"/unsubscribe/{tokenOfA}", OneClickBody(), Cancel);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.Store.FindAsync(a, Cancel))!.Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(b, Cancel))!.Status);
        Assert.Empty(await app.Store.LinkEventsAsync(a, Cancel));
    }

    [Fact]
    public async Task Links_OfAnErasedSubscriber_ChangeNothingAndStillRedirectToTheForm()
    {
        await using var app = new MailerAppFactory();
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        await using (var connection = await app.Services.GetRequiredService<Database>().OpenAsync(Cancel))
        {
            await connection.ExecuteAsync("DELETE FROM subscribers WHERE id = @id", new { id });
        }

        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(MailerAppFactory.PathOf(app.Links.ConfirmUrl(id)), Cancel)).StatusCode);
        Assert.Contains("Du bist abgemeldet", await client.GetStringAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), Cancel));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), OneClickBody(), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.Found, (await client.GetAsync(MailerAppFactory.PathOf(app.Links.ClickUrl(id, "facebook")), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(MailerAppFactory.PathOf(app.Links.DoneUrl(id, "facebook")), Cancel)).StatusCode);
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }
}
