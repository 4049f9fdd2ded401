using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Signups;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Reliability;

/// <summary>
/// A subscriber's whole life in the logs (signup, confirmation mail, confirm, click, unsubscribe) and a mailing whose
/// server refuses some addresses the way Postfix does, naming them in its reply: no line carries an address, the
/// client's IP address or a token. Lines name subscriber and delivery ids.
/// </summary>
public sealed partial class SubscriberDataInLogsTests : IAsyncLifetime
{
    private const string ClientIp = "198.51.100.77";

    private readonly string _data = TestPaths.NewTemporaryDirectory("logs");
    private TestSmtpServer _smtp = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    [Fact]
    public async Task SignupToUnsubscribe_AndRefusalsThatNameTheAddress_LeaveNoAddressIpOrTokenInTheLogs()
    {
        const int count = 30;
        var logs = new LogCapture();
        _smtp.RecipientAnswer = to => (to.StartsWith("logged", StringComparison.Ordinal) ? Generated.Number(to) % 10 : 0) switch
        {
            1 => SmtpAnswer.Reply(550, $"5.1.1 <{to}>: Recipient address rejected: User unknown in virtual mailbox table"),
            2 => SmtpAnswer.Reply(450, $"4.2.0 <{to}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{to}"),
            _ => null,
        };
        _smtp.Answer = mail => mail.To.Single().StartsWith("logged", StringComparison.Ordinal) && Generated.Number(mail.To.Single()) % 10 == 3
            ? SmtpAnswer.Reply(554, $"5.7.1 Message to {mail.To.Single()} rejected: spam content")
            : SmtpAnswer.Accept;

        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = new CampaignHost(_data, _smtp, time, new Dictionary<string, string?>
        {
            ["Campaign:LaunchAt"] = "2024-05-01T12:00:00",
            ["Campaign:MaxAttempts"] = "3",
            ["Logging:LogLevel:Mailer"] = "Debug",
        })
        { ConfigureServices = services => services.AddSingleton<ILoggerProvider>(logs) }.Start();
        await host.AddConfirmedAsync(count, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "logged");
        await host.WaitUntilSettledAsync("announcement", count);

        // One person's way through the service, from a known address.
        using var client = new HttpClient(new CookieContainerHandler { InnerHandler = host.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(ClientIp)) })
        {
            BaseAddress = new Uri("http://localhost"),
        };
        var signup = await client.PostAsJsonAsync("/subscribe", new { email = "life.cycle@example.org", platforms = new[] { "facebook" }, locale = "en" }, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, signup.StatusCode);
        await _smtp.WaitForMessagesAsync(count - 9 + 1, TimeSpan.FromMinutes(1));
        var confirmation = _smtp.Messages.Single(m => m.To.Single() == "life.cycle@example.org").Message.TextBody!;
        var links = Links().Matches(confirmation).Select(m => m.Value).ToList();
        var confirm = links.Single(l => l.Contains("/confirm/", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await client.ConfirmWithButtonAsync(confirm)).StatusCode);
        await host.WaitUntilSettledAsync("announcement", count + 1);
        var announcement = _smtp.Messages.Last(m => m.To.Single() == "life.cycle@example.org").Message.TextBody!;
        links.AddRange(Links().Matches(announcement).Select(m => m.Value));
        var click = links.First(l => l.Contains("/go/", StringComparison.Ordinal));
        using var noRedirects = new HttpClient(host.Server.CreateHandler()) { BaseAddress = new Uri("http://localhost") };
        Assert.Equal(HttpStatusCode.Redirect, (await noRedirects.GetAsync(MailerAppFactory.PathOf(click), Cancel)).StatusCode);
        var unsubscribe = links.First(l => l.Contains("/unsubscribe/", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(MailerAppFactory.PathOf(unsubscribe), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]), Cancel)).StatusCode);

        Assert.Equal(6, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND last_reply LIKE '55%'"));
        Assert.Equal(3, await host.CountAsync("SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND last_reply LIKE '450%'"));
        var tokens = links.Select(l => new Uri(l).AbsolutePath.Split('/')[2]).ToList();
        var leaks = logs.Lines.Where(line => line.Contains('@') || line.Contains(ClientIp, StringComparison.Ordinal)
            || tokens.Any(t => line.Contains(t, StringComparison.Ordinal))).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} log lines with subscriber data, e.g.:\n{string.Join("\n", leaks.Take(5))}");
        Assert.Contains(logs.Lines, line => line.Contains("rejected", StringComparison.Ordinal) && line.Contains("550", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"https://kampagne\.example\.org/[A-Za-z0-9/_.%-]+")]
    private static partial Regex Links();
}
