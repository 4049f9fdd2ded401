using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mailer.Tests.Support;
using static Mailer.Tests.Subscribers.TestSteps;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// What an admitted caller (this machine, past the antiforgery check) sends to the dashboard's commands that no browser
/// sends: Hangfire read every such body itself and answered 500 (found by the sweep of every route); now it is
/// refused with a 4xx before Hangfire sees it, and a real form still reaches Hangfire.
/// </summary>
public sealed class DashboardFormsTests
{
    public static TheoryData<string, string, string?, string, HttpStatusCode> Bodies() => new()
    {
        { "POST", "/hangfire/recurring/trigger", null, "", HttpStatusCode.UnprocessableEntity },
        { "GET", "/hangfire/jobs/awaiting/delete", null, "", HttpStatusCode.UnprocessableEntity },
        { "POST", "/hangfire/recurring/trigger", "application/json", """{"jobs[]":["x"]}""", HttpStatusCode.UnsupportedMediaType },
        { "DELETE", "/hangfire/jobs/failed/delete", "application/xml", "<jobs/>", HttpStatusCode.UnsupportedMediaType },
        { "POST", "/hangfire/jobs/enqueued/delete", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"jobs[]\"\r\n\r\nx", HttpStatusCode.BadRequest },
        { "POST", "/hangfire/jobs/enqueued/delete", "multipart/form-data", "jobs[]=x", HttpStatusCode.BadRequest },
        { "POST", "/hangfire/stats", "application/x-www-form-urlencoded; charset=utf-7", "metrics[]=+ADw-", HttpStatusCode.BadRequest },
        { "POST", "/hangfire/jobs/scheduled/delete", "application/x-www-form-urlencoded", string.Join("&", Enumerable.Repeat("jobs[]=x", 2_000)), HttpStatusCode.BadRequest },
        { "POST", "/hangfire/jobs/enqueued/delete", "application/x-www-form-urlencoded", "jobs[]=no-such-job", HttpStatusCode.NoContent },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task ACommandFromAnAdmittedCaller_WithABodyThatIsNoForm_IsRefusedWith4xx_AndARealFormStillWorks(
        string method, string path, string? contentType, string body, HttpStatusCode expected)
    {
        await using var app = new MailerAppFactory();
        var client = app.CreateClientFrom("127.0.0.1");
        var id = await ConfirmedSubscriberAsync(app, "anna@example.de");
        var token = MailerAppFactory.AntiforgeryField(await client.GetStringAsync(MailerAppFactory.PathOf(app.Links.UnsubscribeUrl(id)), Cancel)).Value;
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("RequestVerificationToken", token);
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        var response = await client.SendAsync(request, Cancel);

        Assert.Equal(expected, response.StatusCode);
    }
}
