using Mailer.Tests.Support;

namespace Mailer.Tests.Campaigns;

/// <summary>The operators' view of several campaigns, through the built program: <c>campaigns</c>, <c>--campaign</c>, and wrong settings.</summary>
public sealed class CampaignsCommandTests
{
    private static string[] TwoCampaigns(string data) =>
    [
        $"--Mailer:DataDirectory={data}",
        "--Campaigns:meta-ai-objection:LaunchAt=2024-05-01T12:00:00",
        "--Campaigns:tiktok-2025:Deadline=2025-06-30T23:59:59",
        "--Campaigns:tiktok-2025:TimeZone=Europe/Berlin",
        "--Campaigns:tiktok-2025:LaunchAt=2025-06-01T10:00:00",
        "--Campaigns:tiktok-2025:Platforms:tiktok:FormUrl=https://www.tiktok.com/legal/report/privacy",
        "--Campaigns:tiktok-2025:Mailings:announcement:When=Launch",
        "--Campaigns:tiktok-2025:Mailings:three-days-left:Before=3.00:00:00",
        "--Campaigns:tiktok-2025:Mailings:three-days-left:AtLocalTime=09:00",
        "--Campaigns:tiktok-2025:Mailings:form-moved:When=At",
        "--Campaigns:tiktok-2025:Mailings:form-moved:At=2025-06-20T18:00",
    ];

    [Fact]
    public async Task Campaigns_ListsEachCampaignsStateAndItsMailingsDueTimes()
    {
        var (exit, output) = await MailerProgram.RunAsync(["campaigns", .. TwoCampaigns(TestPaths.NewTemporaryDirectory("campaigns-command"))]);

        Assert.True(exit == 0, output);
        Assert.Contains("meta-ai-objection: past deadline, deadline 2024-05-26 23:59:59 Europe/Berlin", output, StringComparison.Ordinal);
        Assert.Matches(@"tiktok-2025: (upcoming|open|past deadline), deadline 2025-06-30 23:59:59 Europe/Berlin", output);
        Assert.Matches(@"three-days-left +BeforeDeadline +2025-06-27 09:00:00 Europe/Berlin  to not done", output);
        Assert.Matches(@"form-moved +At +2025-06-20 18:00:00 Europe/Berlin  to not done", output);
        Assert.Matches(@"announcement +Launch +2025-06-01 10:00:00 Europe/Berlin  to confirmed, late joiners too", output);
        Assert.Matches(@"reminder-week +BeforeDeadline +2024-05-19 09:00:00 Europe/Berlin", output);
    }

    [Fact]
    public async Task ACommandWithoutCampaign_WhenThereAreSeveral_SaysWhichThereAre_AndAnUnknownOneIsNamed()
    {
        var data = TestPaths.NewTemporaryDirectory("campaigns-command");

        var (noneExit, noneOutput) = await MailerProgram.RunAsync(["status", .. TwoCampaigns(data)]);
        var (unknownExit, unknownOutput) = await MailerProgram.RunAsync(["status", "--campaign", "nope", .. TwoCampaigns(data)]);
        var (namedExit, namedOutput) = await MailerProgram.RunAsync(["status", "--campaign", "tiktok-2025", .. TwoCampaigns(data)]);

        Assert.NotEqual(0, noneExit);
        Assert.Contains("several campaigns (meta-ai-objection, tiktok-2025): name one with --campaign", noneOutput, StringComparison.Ordinal);
        Assert.NotEqual(0, unknownExit);
        Assert.Contains("no campaign 'nope'; configured: meta-ai-objection, tiktok-2025", unknownOutput, StringComparison.Ordinal);
        Assert.True(namedExit == 0, namedOutput);
        Assert.Contains("campaign tiktok-2025, deadline 2025-06-30 23:59:59 Europe/Berlin", namedOutput, StringComparison.Ordinal);
        Assert.Contains("three-days-left", namedOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("reminder-week", namedOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Campaigns:tiktok-2025:Mailings:form-moved:At=", "Campaigns:tiktok-2025:Mailings:form-moved:At is required when")]
    [InlineData("--Campaigns:tiktok-2025:Mailings:form-moved:At=2025-06-20", "Campaigns:tiktok-2025:Mailings:form-moved:At '2025-06-20' is not a date and time")]
    [InlineData("--Campaigns:tiktok-2025:Mailings:Form_Moved:Before=1.00:00:00", "Campaigns:tiktok-2025:Mailings:Form_Moved: a mailing's name must be")]
    [InlineData("--Campaigns:tiktok-2025:Mailings:three-days-left:AtLocalTime=9 Uhr", "Campaigns:tiktok-2025:Mailings:three-days-left:AtLocalTime '9 Uhr' is not a time of day")]
    [InlineData("--Campaigns:tiktok-2025:Deadline=30.06.2025", "Campaigns:tiktok-2025:Deadline '30.06.2025' is not a date and time")]
    [InlineData("--Campaigns:TikTok:Deadline=2025-06-30T23:59:59", "Campaigns:TikTok: a campaign's name must be")]
    public async Task AWrongCampaignSetting_StopsTheStart_NamingTheKey(string setting, string message)
    {
        var args = TwoCampaigns(TestPaths.NewTemporaryDirectory("campaigns-command"))
            .Where(a => !a.StartsWith(setting[..setting.IndexOf('=')] + "=", StringComparison.Ordinal));
        var (exit, output) = await MailerProgram.RunAsync(["campaigns", .. args, setting]);

        Assert.NotEqual(0, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }
}
