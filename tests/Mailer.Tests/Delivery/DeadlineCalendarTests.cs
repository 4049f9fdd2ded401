using System.ComponentModel.DataAnnotations;
using System.Text;
using Ical.Net;
using Mailer.Campaigns;
using Mailer.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Calendar = Ical.Net.Calendar;

namespace Mailer.Tests.Delivery;

/// <summary>The calendar file speaks of its own campaign: its words come from <c>Campaigns:&lt;name&gt;:Calendar</c>, never from another campaign.</summary>
public class DeadlineCalendarTests
{
    [Fact]
    public void Calendar_TakesTitleTextAndFileName_FromTheCampaign()
    {
        var campaign = TestOptions.Campaign(c => c.Calendar = new CalendarOptions
        {
            Title = "Frist: Widerspruch gegen TikToks KI",
            Text = "Bis {deadline} kannst du TikTok widersprechen.",
            FileName = "frist-tiktok.ics",
        });

        var (part, calendar) = Build(campaign);

        Assert.Equal("frist-tiktok.ics", part.FileName);
        var deadline = Assert.Single(calendar.Events);
        Assert.Equal("Frist: Widerspruch gegen TikToks KI", deadline.Summary);
        Assert.StartsWith("Bis 26.05.2024, 23:59 Uhr (Europe/Berlin) kannst du TikTok widersprechen.\n", deadline.Description, StringComparison.Ordinal);
        Assert.Contains(TestOptions.FacebookForm, deadline.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Calendar_WithoutWordsOfItsOwn_NamesTheCampaign_AndNoOtherPlatform()
    {
        var campaign = TestOptions.Campaign(c => c.Name = "tiktok-2025");

        var (part, calendar) = Build(campaign);

        Assert.Equal("frist-tiktok-2025.ics", part.FileName);
        var deadline = Assert.Single(calendar.Events);
        Assert.Equal("Frist: tiktok-2025", deadline.Summary);
        Assert.StartsWith("Frist: 26.05.2024, 23:59 Uhr (Europe/Berlin).", deadline.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("Meta", deadline.Summary + deadline.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FileName", "frist.txt")]
    [InlineData("FileName", "../../etc/frist.ics")]
    [InlineData("FileName", "frist\r\nX-Evil: 1.ics")]
    [InlineData("Title", "Frist\r\nBEGIN:VEVENT")]
    public void Calendar_WithAnUnsafeSetting_StopsTheStart_NamingTheKey(string setting, string value)
    {
        var calendar = setting == "FileName" ? new CalendarOptions { FileName = value } : new CalendarOptions { Title = value };
        var campaign = TestOptions.Campaign(c => c.Calendar = calendar);

        var errors = campaign.Validate(new ValidationContext(campaign)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.StartsWith($"Campaign:Calendar:{setting} must", StringComparison.Ordinal));
    }

    private static (MimePart Part, Calendar Calendar) Build(CampaignOptions campaign)
    {
        var part = new DeadlineCalendar(campaign, "example.org", new FakeTimeProvider(TestMails.Now)).CreatePart();
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return (part, Calendar.Load(Encoding.UTF8.GetString(stream.ToArray()))!);
    }
}
