using System.Net;
using System.Text;
using System.Text.Json;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups;

/// <summary>Hostile and broken signups: each gets its documented answer and leaves the store as it was.</summary>
public class HostileSignupTests
{
    private const string Json = "application/json";

    public static TheoryData<string, string?, string, int, string?> Requests()
    {
        var longLocal = new string('a', 300);
        return new()
        {
            // name, content type, body, status, field named in the problem
            { "CRLF in the address", Json, """{"email":"anna@example.de\r\nBcc: all@example.de","platforms":["facebook"]}""", 400, "email" },
            { "LF before the @", Json, """{"email":"anna\n@example.de","platforms":["facebook"]}""", 400, "email" },
            { "300-character local part", Json, $$"""{"email":"{{longLocal}}@example.de","platforms":["facebook"]}""", 400, "email" },
            { "script as address", Json, """{"email":"<script>alert(1)</script>","platforms":["facebook"]}""", 400, "email" },
            { "script in the local part", Json, """{"email":"<script>@example.de","platforms":["facebook"]}""", 400, "email" },
            { "script in the domain", Json, """{"email":"anna@<script>.de","platforms":["facebook"]}""", 400, "email" },
            { "script as platform", Json, """{"email":"anna@example.de","platforms":["<script>"]}""", 400, "platforms" },
            { "script as locale", Json, """{"email":"anna@example.de","platforms":["facebook"],"locale":"<script>"}""", 400, "locale" },
            { "script as field name", Json, """{"email":"anna@example.de","platforms":["facebook"],"<script>":1}""", 400, "body" },
            { "two addresses", Json, """{"email":"anna@example.de, bob@example.de","platforms":["facebook"]}""", 400, "email" },
            { "quoted local part", Json, """{"email":"\"anna bob\"@example.de","platforms":["facebook"]}""", 400, "email" },
            { "umlaut before the @", Json, """{"email":"jürgen@example.de","platforms":["facebook"]}""", 400, "email" },
            { "no domain dot", Json, """{"email":"anna@localhost","platforms":["facebook"]}""", 400, "email" },
            { "IP literal", Json, """{"email":"anna@[127.0.0.1]","platforms":["facebook"]}""", 400, "email" },
            { "unknown platform", Json, """{"email":"anna@example.de","platforms":["tiktok"]}""", 400, "platforms" },
            { "unknown locale", Json, """{"email":"anna@example.de","platforms":["facebook"],"locale":"fr"}""", 400, "locale" },
            { "missing address", Json, """{"platforms":["facebook"]}""", 400, "email" },
            { "empty address", Json, """{"email":"  ","platforms":["facebook"]}""", 400, "email" },
            { "missing platforms", Json, """{"email":"anna@example.de"}""", 400, "platforms" },
            { "no platform", Json, """{"email":"anna@example.de","platforms":[]}""", 400, "platforms" },
            { "empty object", Json, "{}", 400, "email" },
            { "extra field", Json, """{"email":"anna@example.de","platforms":["facebook"],"status":"confirmed"}""", 400, "status" },
            { "address as number", Json, """{"email":5,"platforms":["facebook"]}""", 400, "email" },
            { "address as object", Json, """{"email":{"$ne":null},"platforms":["facebook"]}""", 400, "email" },
            { "platforms as string", Json, """{"email":"anna@example.de","platforms":"facebook"}""", 400, "platforms" },
            { "platforms as numbers", Json, """{"email":"anna@example.de","platforms":[1,2]}""", 400, "platforms" },
            { "locale as array", Json, """{"email":"anna@example.de","platforms":["facebook"],"locale":["de"]}""", 400, "locale" },
            { "field twice", Json, """{"email":"anna@example.de","email":"bob@example.de","platforms":["facebook"]}""", 400, "body" },
            { "array body", Json, """[{"email":"anna@example.de","platforms":["facebook"]}]""", 400, "body" },
            { "null body", Json, "null", 400, "body" },
            { "empty body", Json, "", 400, "body" },
            { "broken JSON", Json, """{"email":"anna@example.de",""", 400, "body" },
            { "deep nesting", Json, """{"email":"anna@example.de","platforms":["facebook"],"x":[[[[[[[[[[[[1]]]]]]]]]]]]}""", 400, "body" },
            { "text body", "text/plain", "email=anna@example.de", 415, null },
            { "XML body", "application/xml", "<signup><email>anna@example.de</email></signup>", 415, null },
            { "no content type", null, """{"email":"anna@example.de","platforms":["facebook"]}""", 415, null },
            { "1 MB of JSON", Json, $$"""{"email":"anna@example.de","platforms":["facebook"],"pad":"{{new string('x', 1024 * 1024)}}"}""", 413, null },
            { "1 MB form", "application/x-www-form-urlencoded", "email=anna%40example.de&platforms=facebook&pad=" + new string('x', 1024 * 1024), 413, null },
        };
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Signup_WithHostileInput_GetsItsAnswerAndStoresNothing(string name, string? contentType, string body, int status, string? field)
    {
        await using var app = new MailerAppFactory();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await app.CreateClient().PostAsync("/subscribe", content, Cancel);

        Assert.True(status == (int)response.StatusCode, $"{name}: {(int)response.StatusCode} {await response.BodyAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            using var problem = JsonDocument.Parse(await response.BodyAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{name}: {problem.RootElement}");
        }

        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
        Assert.Equal(0, app.CapturedJobs.ConfirmationCount);
    }

    [Fact]
    public async Task Signup_WithChunkedBodyOverTheLimit_Returns413AndStoresNothing()
    {
        await using var app = new MailerAppFactory();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(
            $$"""{"email":"anna@example.de","platforms":["facebook"],"pad":"{{new string('x', 20_000)}}"}""")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(Json);
        content.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await app.CreateClient().SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(new RowCounts(0, 0, 0), await app.CountRowsAsync());
    }
}
