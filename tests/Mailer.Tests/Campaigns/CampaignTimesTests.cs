using Mailer.Campaigns;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.OperatorData;
using Mailer.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Campaigns;

/// <summary>
/// <c>Campaign:Deadline</c>, <c>Campaign:LaunchAt</c> and <c>--now</c>: a time with an offset is that instant, a time
/// without one is wall-clock time in <c>Campaign:TimeZone</c>, whatever zone the machine is in.
/// </summary>
public sealed class CampaignTimesTests
{
    /// <summary>The guide's deadline, 26 May 2024 23:59:59 in Berlin (UTC+2 in May).</summary>
    private static readonly DateTimeOffset Deadline = new(2024, 5, 26, 21, 59, 59, TimeSpan.Zero);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("2024-05-26T21:59:59Z")]
    [InlineData("2024-05-26T23:59:59+02:00")]
    [InlineData("2024-05-26T23:59:59")]
    [InlineData("2024-05-27T05:59:59+08:00")]
    [InlineData("2024-05-26 21:59:59z")]
    public void Deadline_WithAnOffsetOrAsBerlinWallTime_IsTheSameInstant(string text)
    {
        var options = Bind(("Campaign:Deadline", text));

        Assert.Equal(Deadline, options.DeadlineUtc);
        Assert.Equal(Deadline.UtcTicks, options.DeadlineUtc.UtcTicks);
    }

    [Theory]
    [InlineData("2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T12:00:00+02:00")]
    [InlineData("2024-05-01T12:00:00")]
    [InlineData("2024-05-01T06:00:00-04:00")]
    public void LaunchAt_WithAnOffsetOrAsBerlinWallTime_IsTheSameInstant(string text)
    {
        var campaign = Bind(("Campaign:LaunchAt", text));

        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), campaign.LaunchAtUtc);
    }

    [Theory]
    [InlineData("2024-05-26T05:59:59Z", "will receive it 2024-05-26 08:00:00")]
    [InlineData("2024-05-26T07:59:59+02:00", "will receive it 2024-05-26 08:00:00")]
    [InlineData("2024-05-26T07:59:59", "will receive it 2024-05-26 08:00:00")]
    [InlineData("2024-05-26T06:00:00Z", "due now")]
    [InlineData("2024-05-26T08:00:00+02:00", "due now")]
    [InlineData("2024-05-26T08:00:00", "due now")]
    [InlineData("2024-05-26T09:00:00+03:00", "due now")]
    public async Task Now_WithAnOffsetOrAsBerlinWallTime_IsTheSameInstant(string now, string finalReminder)
    {
        await using var host = await OperatorHost.StartAsync("now");
        var signup = await new SubscriberStore(host.Database).SignUpAsync(
            new Signup("anna@example.org", "de", ["facebook"], ConsentSource.Form, "v1", null, null), OperatorHost.Now, TimeSpan.Zero, Cancel);
        await new SubscriberStore(host.Database).ConfirmAsync(signup.SubscriberId, OperatorHost.Now, null, Cancel);

        var result = await host.RunAsync(Timeline(host), "--email", "anna@example.org", "--now", now);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches($"reminder-final +{finalReminder}", result.Output);
    }

    /// <summary>
    /// The program itself, started with the machine's zone set to one far from Berlin (TZ), so that a time read in the
    /// machine's zone shows up whatever zone the developer's machine or CI is in.
    /// </summary>
    [Theory]
    [InlineData("Asia/Tokyo")]
    [InlineData("America/Los_Angeles")]
    [InlineData("UTC")]
    public async Task TheProgram_OnAMachineInAnotherZone_ReadsOffsetsAsInstants(string machineZone)
    {
        var data = TestPaths.NewTemporaryDirectory("times-tz");
        var import = Path.Combine(data, "in.csv");
        await File.WriteAllTextAsync(import, "email,locale,platforms,consent_at,consent_source\nanna@example.org,de,facebook,2024-04-01T10:00:00Z,test\n", Cancel);
        string[] settings = [$"--Mailer:DataDirectory={data}", "--Campaign:Deadline=2024-05-26T21:59:59Z", "--Campaign:LaunchAt=2024-05-01T12:00:00+02:00"];

        var imported = await RunProgramAsync(machineZone, ["import", import, .. settings]);
        var timeline = await RunProgramAsync(machineZone, ["timeline", "--email", "anna@example.org", "--now", "2024-05-26T06:00:00Z", .. settings]);

        Assert.True(imported.ExitCode == 0, imported.Output);
        Assert.True(timeline.ExitCode == 0, timeline.Output);
        Assert.Contains("deadline         2024-05-26 23:59:59 Europe/Berlin  (2024-05-26 21:59:59Z)", timeline.Output, StringComparison.Ordinal);
        Assert.Contains("announcement     2024-05-01 12:00:00 Europe/Berlin  (2024-05-01 10:00:00Z)", timeline.Output, StringComparison.Ordinal);
        Assert.Matches("reminder-final +due now", timeline.Output);
    }

    [Theory]
    [InlineData("2024-05-26", "is not a date and time such as 2024-05-26T23:59:59")]
    [InlineData("26.05.2024 23:59", "is not a date and time")]
    [InlineData("05/06/2024 23:59:59", "is not a date and time")]
    [InlineData("2024-05-26T23:59:59 +02:00", "is not a date and time")]
    [InlineData("2024-02-30T10:00:00", "is not a date of the calendar")]
    [InlineData("2024-10-27T02:30:00", "occurs twice in Europe/Berlin (the clocks go back that night); add the offset meant: +01:00 or +02:00")]
    [InlineData("2024-03-31T02:30:00", "does not exist in Europe/Berlin")]
    public void Deadline_ThatCouldMeanTwoMoments_StopsTheStart_NamingTheKey(string text, string reason)
    {
        var options = Bind(("Campaign:Deadline", text), ("Campaign:LaunchAt", text));
        options.Platforms["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Equal(2, errors.Count);
        Assert.StartsWith($"Campaign:Deadline '{text}' {reason}", errors[0], StringComparison.Ordinal);
        Assert.StartsWith($"Campaign:LaunchAt '{text}' {reason}", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Deadline_InTheAutumnFold_WithItsOffset_IsAccepted()
    {
        Assert.Equal(new DateTimeOffset(2024, 10, 27, 1, 30, 0, TimeSpan.Zero), Bind(("Campaign:Deadline", "2024-10-27T02:30:00+01:00")).DeadlineUtc);
        Assert.Equal(new DateTimeOffset(2024, 10, 27, 0, 30, 0, TimeSpan.Zero), Bind(("Campaign:Deadline", "2024-10-27T02:30:00+02:00")).DeadlineUtc);
    }

    [Theory]
    [InlineData("2024-05-26")]
    [InlineData("2024-10-27T02:30")]
    [InlineData("tomorrow")]
    public async Task Now_ThatCouldMeanTwoMoments_IsAUsageError_NamingTheOption(string now)
    {
        await using var host = await OperatorHost.StartAsync("now-bad");

        var result = await host.RunAsync(Timeline(host), "--now", now);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--now '{now}'", result.Error, StringComparison.Ordinal);
    }

    private static CampaignOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<CampaignOptions>().BindConfiguration(CampaignOptions.Section);
        return services.BuildServiceProvider().GetRequiredService<IOptions<CampaignOptions>>().Value;
    }

    private static TimelineCommand Timeline(OperatorHost host)
    {
        var options = Options.Create(new CampaignOptions());
        options.Value.Platforms["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" };
        var ledger = new DeliveryLedger(host.Database);
        var catalog = CampaignCatalog.Of(options.Value);
        return new TimelineCommand(new SubscriberTimeline(new CampaignClock(catalog, ledger, host.Time), ledger, new Mailer.Bounces.BounceStore(host.Database)), catalog, host.Time);
    }

    /// <summary>Runs the built program (<c>Mailer.dll</c> beside the tests) from the repository root with TZ set.</summary>
    private static Task<(int ExitCode, string Output)> RunProgramAsync(string machineZone, string[] arguments) =>
        MailerProgram.RunAsync(arguments, new Dictionary<string, string> { ["TZ"] = machineZone });
}
