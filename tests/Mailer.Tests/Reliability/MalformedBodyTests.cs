using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Reliability;

/// <summary>
/// Bodies that no browser sends and the framework's readers refuse by throwing, found by <see cref="HostileRequestTests"/>:
/// each is refused with a 400 (or 415) and changes nothing, on every endpoint that reads a body.
/// </summary>
public class MalformedBodyTests
{
    private const string Form = "application/x-www-form-urlencoded";

    public static TheoryData<string, string, string> Forms() => new()
    {
        { "UTF-7 charset", Form + "; charset=utf-7", "email=anna%40example.de&platforms=facebook" },
        { "NUL in an escape", Form, "email=anna%00%40example.de&platforms=facebook" },
        { "2,000 values", Form, string.Join("&", Enumerable.Repeat("a", 2000)) },
        { "3,000-character key", Form, new string('k', 3000) + "=v" },
        { "multipart without a boundary", "multipart/form-data", "email=anna%40example.de" },
        { "multipart that ends before its closing boundary", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nanna" },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task UnreadableForm_OnEveryEndpointThatReadsOne_IsRefusedAndChangesNothing(string name, string contentType, string body)
    {
        await using var app = new MailerAppFactory { Time = Clock() };
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var client = app.CreateClient();
        var before = await app.CountRowsAsync();

        foreach (var path in new[] { "/subscribe", MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), MailerAppFactory.PathOf(app.Links.DoneUrl(id, "facebook")) })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            var response = await client.PostAsync(path, content, Cancel);
            // The signup takes only JSON and url-encoded forms: routing refuses a multipart body with 415 before it is read.
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{name} to {path}: {(int)response.StatusCode}");
        }

        Assert.Equal(before, await app.CountRowsAsync());
        Assert.Equal(SubscriberStatus.Confirmed, (await app.Store.FindAsync(id, Cancel))!.Status);
        Assert.Equal(0, app.CapturedJobs.ConfirmationCount);
    }

    public static TheoryData<string, byte[]> Json() => new()
    {
        { "lone surrogate in a value", Encoding.UTF8.GetBytes("""{"email":"\ud800@example.de","platforms":["facebook"]}""") },
        { "lone surrogate in the locale", Encoding.UTF8.GetBytes("""{"email":"anna@example.de","platforms":["facebook"],"locale":"\udc00"}""") },
        { "lone surrogate in a name", Encoding.UTF8.GetBytes("""{"\ud800":"x","email":"anna@example.de","platforms":["facebook"]}""") },
        { "bytes that are not UTF-8", [.. "{\"email\":\"anna"u8, 0xff, 0xc0, 0xaf, .. "@example.de\",\"platforms\":[\"facebook\"]}"u8] },
        { "not UTF-8 in a platform", [.. "{\"email\":\"anna@example.de\",\"platforms\":[\"face"u8, 0xed, 0xa0, 0x80, .. "\"]}"u8] },
    };

    [Theory]
    [MemberData(nameof(Json))]
    public async Task JsonSignup_WithTextThatIsNotText_Returns400AndStoresNothing(string name, byte[] body)
    {
        await using var app = new MailerAppFactory();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await app.CreateClient().PostAsync("/subscribe", content, Cancel);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
        using var problem = JsonDocument.Parse(await response.BodyAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("body", out _), $"{name}: {problem.RootElement}");
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }
}
