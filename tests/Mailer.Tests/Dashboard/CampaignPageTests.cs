using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Observability;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Dashboard;

/// <summary>
/// The "Campaign" page of the Hangfire dashboard over HTTP, after a small campaign through the real service: the numbers
/// per mailing, the servers' replies as text (one of them is markup), the lookup of one address, and the dashboard's
/// access rules.
/// </summary>
public partial class CampaignPageTests : IAsyncLifetime
{
    private readonly string _data = TestPaths.NewTemporaryDirectory("campaign-page");
    private TestSmtpServer _smtp = null!;

    protected virtual IEnumerable<(string Key, string? Value)> StoreSettings =>
        [("Hangfire:DashboardUser", "operator"), ("Hangfire:DashboardPassword", "Operator-Password-1")];

    public virtual async ValueTask InitializeAsync() => _smtp = await CampaignMetricsTests.StartSmtpAsync();

    public virtual async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task CampaignPage_ShowsEachMailingsNumbers_AndTheServersRepliesAsText()
    {
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, StoreSettings);

        var response = await Client(host, IPAddress.Loopback).GetAsync("/hangfire/campaign", Cancel);
        var html = await response.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Mailer jobs", html);   // inside the dashboard's layout
        // recipients, sent, failed, skipped, queued
        Assert.Matches(MailingRow("announcement", 13, 11, 2, 0, 0), html);
        Assert.Matches(MailingRow("reminder-week", 13, 9, 0, 4, 0), html);   // the two hard bounces of the announcement skipped
        Assert.Matches(MailingRow("reminder-final", 0, 0, 0, 0, 0), html);
        Assert.Contains("2024-05-19 09:00:00 Europe/Berlin", html);
        Assert.Contains("0.15/s", html);         // the reminder's 9 in the last minute of the test's clock
        Assert.Contains("Last failures of announcement", html);
        Assert.Contains("550 5.1.1 &lt;script&gt;alert(&#39;gone&#39;)&lt;/script&gt; &amp; &quot;no such user&quot;", html);
        Assert.DoesNotContain("<script>alert(", html);
    }

    [Fact]
    public async Task DashboardMenu_LeadsToTheCampaignPage()
    {
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, StoreSettings);

        var html = await Client(host, IPAddress.Loopback).GetStringAsync("/hangfire", Cancel);

        Assert.Contains("href=\"/hangfire/campaign\"", html);
    }

    [Fact]
    public async Task LookingUpAnAddress_ShowsItsTimeline_AndAnUnknownOneSaysSo()
    {
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, StoreSettings);
        var client = Client(host, IPAddress.Loopback);

        var found = await LookUpAsync(client, "LATER0@example.net");
        var unknown = await LookUpAsync(client, "<b>nobody</b>@example.net");

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var html = await found.BodyAsync();
        Assert.Contains("subscriber #", html);
        Assert.Matches(@"<th>announcement</th><td>sent 2024-05-01 12:00:\d\d Europe/Berlin, 2 attempt\(s\): 250", html);
        Assert.Matches(@"<th>reminder-final</th><td>will receive it 2024-05-26 08:00:00 Europe/Berlin", html);
        var unknownHtml = await unknown.BodyAsync();
        Assert.Contains("No subscriber with the address &lt;b&gt;nobody&lt;/b&gt;@example.net.", unknownHtml);
        Assert.DoesNotContain("<b>nobody</b>", unknownHtml);
    }

    [Fact]
    public async Task LookUp_WithoutTheFormsAntiforgeryToken_IsRefused()
    {
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, StoreSettings);

        var response = await Client(host, IPAddress.Loopback).PostAsync("/hangfire/campaign",
            new FormUrlEncodedContent([new("email", "later0@example.net")]), Cancel);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("subscriber #", await response.BodyAsync());
    }

    [Fact]
    public async Task CampaignPage_ForACallerTheDashboardRefuses_IsRefused()
    {
        await using var host = await CampaignMetricsTests.RunSmallCampaignAsync(_data, _smtp, StoreSettings);
        var stranger = Client(host, IPAddress.Parse("203.0.113.5"));
        var wrongPassword = new HttpRequestMessage(HttpMethod.Get, "/hangfire/campaign");
        wrongPassword.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("operator:wrong"u8.ToArray()));

        var none = await stranger.GetAsync("/hangfire/campaign", Cancel);
        var wrong = await stranger.SendAsync(wrongPassword, Cancel);

        foreach (var response in new[] { none, wrong })
        {
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{(int)response.StatusCode}");
            var html = await response.BodyAsync();
            Assert.DoesNotContain("announcement", html);
            Assert.DoesNotContain("alert(", html);
        }
    }

    /// <summary>Opens the page (for its form's antiforgery field and cookie) and sends the lookup form.</summary>
    private static async Task<HttpResponseMessage> LookUpAsync(HttpClient client, string email)
    {
        var page = await client.GetStringAsync("/hangfire/campaign", Cancel);
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "The page has no antiforgery field.");
        return await client.PostAsync("/hangfire/campaign", new FormUrlEncodedContent(
            [new(token.Groups["name"].Value, WebUtility.HtmlDecode(token.Groups["value"].Value)), new("email", email)]), Cancel);
    }

    private static HttpClient Client(CampaignHost host, IPAddress from) =>
        new(new CookieContainerHandler { InnerHandler = host.Server.CreateHandler(context => context.Connection.RemoteIpAddress = from) })
        {
            BaseAddress = new Uri("http://localhost"),
        };

    private static Regex MailingRow(string mailing, int recipients, int sent, int failed, int skipped, int queued) =>
        new($"""<tr data-mailing="{Regex.Escape(mailing)}" data-campaign="meta-ai-objection"><td>{Regex.Escape(mailing)}</td><td>[^<]+</td><td>{recipients}</td><td>{sent}</td><td>{failed}</td><td>{skipped}</td><td>{queued}</td>""");

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]+)">""")]
    private static partial Regex AntiforgeryField();
}

/// <summary>The campaign page over a ledger in PostgreSQL, with Hangfire's jobs (and so the dashboard) there too.</summary>
public sealed class CampaignPageOnPostgreSqlTests : CampaignPageTests
{
    private PostgresTestDatabase? _postgres;

    protected override IEnumerable<(string Key, string? Value)> StoreSettings => base.StoreSettings.Concat(_postgres!.Settings(hangfire: true));

    public override async ValueTask InitializeAsync()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
