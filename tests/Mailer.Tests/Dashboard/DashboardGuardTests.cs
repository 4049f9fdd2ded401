using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Dashboard;

/// <summary>
/// What an admitted caller (this machine, past the antiforgery check) sends to the dashboard that no browser sends:
/// bodies that are no form, and with the jobs in PostgreSQL job ids that are no number. Hangfire answered each with a
/// 500 (found by the sweep of every route); now each is refused with a 4xx before Hangfire sees it, and a real form
/// and a real id still reach Hangfire.
/// </summary>
public sealed class DashboardGuardTests
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

        Assert.Equal(expected, await SendAsAdmittedAsync(app, method, path, contentType, body));
    }

    public static TheoryData<string, string, string?, string, HttpStatusCode> JobIds() => new()
    {
        { "GET", "/hangfire/jobs/details/%3Cx-injected%3E", null, "", HttpStatusCode.NotFound },
        { "GET", "/hangfire/jobs/details/1%2F2", null, "", HttpStatusCode.NotFound },
        { "GET", "/hangfire/jobs/details/99999999999999999999", null, "", HttpStatusCode.NotFound },
        { "POST", "/hangfire/jobs/actions/delete/abc", null, "", HttpStatusCode.NotFound },
        { "POST", "/HANGFIRE/jobs/actions/requeue/abc/", null, "", HttpStatusCode.NotFound },
        { "POST", "/hangfire/jobs/enqueued/delete", "application/x-www-form-urlencoded", "jobs[]=-1&jobs[]=abc", HttpStatusCode.BadRequest },
        { "GET", "/hangfire/jobs/details/424242", null, "", HttpStatusCode.OK },
        { "POST", "/hangfire/jobs/enqueued/delete", "application/x-www-form-urlencoded", "jobs[]=-1&jobs[]=424242", HttpStatusCode.NoContent },
        { "POST", "/hangfire/recurring/remove", "application/x-www-form-urlencoded", "jobs[]=no-such-recurring-job", HttpStatusCode.NoContent },
    };

    [Theory]
    [MemberData(nameof(JobIds))]
    public async Task WithTheJobsInPostgreSql_AJobIdThatIsNoNumber_IsRefusedWith4xx_AndANumberStillWorks(
        string method, string path, string? contentType, string body, HttpStatusCode expected)
    {
        await using var postgres = await PostgresTestDatabase.CreateAsync();
        await using var app = new MailerAppFactory();
        foreach (var (key, value) in postgres.Settings(hangfire: true))
        {
            app.Settings[key] = value;
        }

        Assert.Equal(expected, await SendAsAdmittedAsync(app, method, path, contentType, body));
    }

    private static async Task<HttpStatusCode> SendAsAdmittedAsync(MailerAppFactory app, string method, string path, string? contentType, string body)
    {
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

        return (await client.SendAsync(request, Cancel)).StatusCode;
    }
}
