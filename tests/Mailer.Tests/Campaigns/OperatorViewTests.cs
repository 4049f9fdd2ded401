using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

/// <summary>What <c>status</c> and <c>timeline</c> tell an operator, after a real send.</summary>
public sealed class OperatorViewTests : IAsyncLifetime
{
    private TestSmtpServer _smtp = null!;
    private readonly string _data = TestPaths.NewTemporaryDirectory("operator-view");

    public async ValueTask InitializeAsync() => _smtp = await TestSmtpServer.StartAsync();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    private static async Task<(int Code, string Output)> RunAsync(CampaignHost host, params string[] args)
    {
        var command = OperatorCommands.Parse(args)!;
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(host.Services, command, output, error);
        return (code, output + error.ToString());
    }

    [Fact]
    public async Task StatusAndTimeline_TellWhoGotWhatAndWhatComesNext()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 2, 8, 0, 0, TimeSpan.Zero));
        await using var host = new CampaignHost(_data, _smtp, time, new Dictionary<string, string?> { ["Campaign:LaunchAt"] = "2024-05-01T12:00:00" }).Start();
        await host.AddConfirmedAsync(3, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), prefix: "view");
        await host.ExecuteAsync("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'view2@example.net'");
        await host.WaitUntilSettledAsync("announcement", 2);

        var status = await RunAsync(host, "status");
        var timeline = await RunAsync(host, "timeline", "--email", "VIEW0@EXAMPLE.NET".ToLowerInvariant(), "--now", "2024-05-20T10:00");
        var leaver = await RunAsync(host, "timeline", "--email", "view2@example.net");
        var stranger = await RunAsync(host, "timeline", "--email", "nobody@example.net");

        Assert.Equal(0, status.Code);
        Assert.Matches(@"announcement\s+2024-05-01 12:00\s+2\s+2\s+0\s+0\s+0", status.Output);
        Assert.Matches(@"reminder-week\s+2024-05-19 09:00\s+0", status.Output);
        Assert.Matches(@"reminder-final\s+2024-05-26 08:00\s+0", status.Output);

        Assert.Equal(0, timeline.Code);
        Assert.Contains("2024-05-19 09:00:00 Europe/Berlin  (2024-05-19 07:00:00Z)", timeline.Output, StringComparison.Ordinal);
        Assert.Matches(@"announcement\s+sent 2024-05-02 10:00:\d\d Europe/Berlin, 1 attempt\(s\): 250", timeline.Output);
        Assert.Contains("reminder-week    due now", timeline.Output, StringComparison.Ordinal);
        Assert.Contains("reminder-final   will receive it 2024-05-26 08:00:00", timeline.Output, StringComparison.Ordinal);

        Assert.Contains("will not receive it: unsubscribed", leaver.Output, StringComparison.Ordinal);
        Assert.Equal(1, stranger.Code);
    }

    [Fact]
    public void ScheduleSettings_BindOverTheDefaults_KeyByKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Campaign:Mailings:reminder-week:Before"] = "3.00:00:00",
            ["Campaign:Mailings:reminder-final:AtLocalTime"] = "",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<CampaignOptions>().BindConfiguration(CampaignOptions.Section);

        var options = services.BuildServiceProvider().GetRequiredService<IOptions<CampaignOptions>>().Value;

        Assert.Equal(TimeSpan.FromDays(3), options.Mailings["reminder-week"].Before);
        Assert.Equal("09:00", options.Mailings["reminder-week"].AtLocalTime);
        Assert.True(string.IsNullOrEmpty(options.Mailings["reminder-final"].AtLocalTime));
        Assert.Equal(TimeSpan.Zero, options.Mailings["reminder-final"].Before);
    }
}
