using Mailer.Campaigns;

namespace Mailer.Tests.Campaigns;

public class CampaignScheduleTests
{
    private static readonly DateTimeOffset Launch = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A campaign's schedule for the tests: its mailings from a launch, and its configured launch.</summary>
    private sealed record TestSchedule(CampaignOptions Campaign)
    {
        public IReadOnlyList<ScheduledMailing> Build(DateTimeOffset launch) => CampaignSchedule.For(Campaign, launch);

        public DateTimeOffset? ConfiguredLaunch => Campaign.LaunchAtUtc;
    }

    private static TestSchedule Schedule(DateTime deadline, Action<CampaignOptions>? configure = null)
    {
        var options = new CampaignOptions { Deadline = deadline.ToString("s", System.Globalization.CultureInfo.InvariantCulture) };
        configure?.Invoke(options);
        return new TestSchedule(options);
    }

    private static ScheduledMailing Mailing(IEnumerable<ScheduledMailing> schedule, string name) => schedule.Single(m => m.Mailing == name);

    [Fact]
    public void TheGuidesDeadline_PutsTheRemindersOnTheMorningsOfTheNineteenthAndTwentySixthOfMay()
    {
        var schedule = Schedule(new DateTime(2024, 5, 26, 23, 59, 59)).Build(Launch);

        Assert.Equal(Launch, Mailing(schedule, "announcement").Due);
        Assert.Null(Mailing(schedule, "announcement").Ends);
        // Berlin is UTC+2 in May.
        Assert.Equal(new DateTimeOffset(2024, 5, 19, 7, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-week").Due);
        Assert.Equal(new DateTimeOffset(2024, 5, 26, 6, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-final").Due);
        Assert.Equal(Mailing(schedule, "reminder-final").Due, Mailing(schedule, "reminder-week").Ends);
        Assert.Equal(new DateTimeOffset(2024, 5, 26, 21, 59, 59, TimeSpan.Zero), Mailing(schedule, "reminder-final").Ends);
    }

    [Fact]
    public void ADeadlineInTheLastWeekOfMarch_UsesWinterTimeForTheWeekReminderAndSummerTimeOnTheFinalDay()
    {
        // Berlin moves from UTC+1 to UTC+2 on 31 March 2024 at 02:00.
        var schedule = Schedule(new DateTime(2024, 3, 31, 23, 59, 59)).Build(Launch);

        Assert.Equal(new DateTimeOffset(2024, 3, 24, 8, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-week").Due);
        Assert.Equal(new DateTimeOffset(2024, 3, 31, 6, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-final").Due);
    }

    [Fact]
    public void ADeadlineInTheLastWeekOfOctober_UsesSummerTimeForTheWeekReminderAndWinterTimeOnTheFinalDay()
    {
        // Berlin moves from UTC+2 to UTC+1 on 27 October 2024 at 03:00.
        var schedule = Schedule(new DateTime(2024, 10, 27, 23, 59, 59)).Build(Launch);

        Assert.Equal(new DateTimeOffset(2024, 10, 20, 7, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-week").Due);
        Assert.Equal(new DateTimeOffset(2024, 10, 27, 7, 0, 0, TimeSpan.Zero), Mailing(schedule, "reminder-final").Due);
    }

    [Fact]
    public void ALocalTimeSkippedBySpringForward_MovesForwardByTheGap()
    {
        var schedule = Schedule(new DateTime(2024, 3, 31, 23, 59, 59),
            o => o.Mailings["reminder-final"].AtLocalTime = "02:30").Build(Launch);

        // 02:30 does not exist that night; the clocks show 03:30 CEST one hour after 01:30 CET, i.e. 01:30 UTC.
        Assert.Equal(new DateTimeOffset(2024, 3, 31, 1, 30, 0, TimeSpan.Zero), Mailing(schedule, "reminder-final").Due);
    }

    [Fact]
    public void ALocalTimeThatHappensTwiceInAutumn_IsTakenAtItsFirstOccurrence()
    {
        var schedule = Schedule(new DateTime(2024, 10, 27, 23, 59, 59),
            o => o.Mailings["reminder-final"].AtLocalTime = "02:30").Build(Launch);

        Assert.Equal(new DateTimeOffset(2024, 10, 27, 0, 30, 0, TimeSpan.Zero), Mailing(schedule, "reminder-final").Due);
    }

    [Fact]
    public void AnEmptyLocalTime_MeansExactlyDeadlineMinusBefore()
    {
        var schedule = Schedule(new DateTime(2024, 5, 26, 23, 59, 59), o =>
        {
            o.Mailings["reminder-week"] = new MailingOptions { Before = TimeSpan.FromMinutes(4), AtLocalTime = "" };
            o.Mailings["reminder-final"] = new MailingOptions { Before = TimeSpan.FromMinutes(2), AtLocalTime = null };
        }).Build(Launch);

        var deadline = new DateTimeOffset(2024, 5, 26, 21, 59, 59, TimeSpan.Zero);
        Assert.Equal(deadline.AddMinutes(-4), Mailing(schedule, "reminder-week").Due);
        Assert.Equal(deadline.AddMinutes(-2), Mailing(schedule, "reminder-final").Due);
        Assert.Equal(deadline.AddMinutes(-2), Mailing(schedule, "reminder-week").Ends);
    }

    [Fact]
    public void AConfiguredLaunch_IsReadInTheCampaignsTimeZone()
    {
        var schedule = Schedule(new DateTime(2024, 5, 26, 23, 59, 59), o => o.LaunchAt = "2024-05-10T12:00:00");

        Assert.Equal(new DateTimeOffset(2024, 5, 10, 10, 0, 0, TimeSpan.Zero), schedule.ConfiguredLaunch);
    }

    [Theory]
    [InlineData("00:00:05", true, "*/5 * * * * *")]
    [InlineData("00:01:00", true, "*/1 * * * *")]
    [InlineData("00:15:00", true, "*/15 * * * *")]
    [InlineData("00:00:07", false, null)]
    [InlineData("00:00:00.500", false, null)]
    [InlineData("02:00:00", false, null)]
    public void PollInterval_MustDivideAMinuteOrAnHour(string interval, bool valid, string? cron)
    {
        var options = new CampaignOptions
        {
            PollInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture),
            Platforms = { ["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" } },
        };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        Assert.Equal(valid, errors.Count == 0);
        if (valid)
        {
            Assert.Equal(cron, options.PollCron);
        }
        else
        {
            Assert.Contains(errors, e => e.ErrorMessage!.Contains("Campaign:PollInterval", StringComparison.Ordinal));
        }
    }
}
