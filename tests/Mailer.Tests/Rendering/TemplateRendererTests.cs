using System.Net;
using Mailer.Rendering;

namespace Mailer.Tests.Rendering;

/// <summary>What the real templates say, for every mailing, locale and choice of platforms.</summary>
public class TemplateRendererTests
{
    private static readonly string[] FacebookLabels =
        ["„Einstellungen & Privatsphäre“", "„Einstellungen“", "„Datenschutzrichtlinie“", "„Widerspruch“", "„zu widersprechen“", "„Bezieht sich deine Anfrage auf KI bei Meta?“"];

    private static readonly string[] InstagramLabels =
        ["„Einstellungen“", "„Info“", "„Privacy Center“", "„Datenschutzrichtlinie“", "„Widerspruch“", "„zu widersprechen“"];

    private static readonly string[] Choices = ["facebook", "instagram", "facebook,instagram"];

    public static TheoryData<string, string, string> EveryMail() => Matrix(Mailings.All);

    public static TheoryData<string, string, string> CampaignMails() => Matrix(Mailings.Campaign);

    public static TheoryData<string, string> LocalesAndChoices()
    {
        var data = new TheoryData<string, string>();
        foreach (var locale in Mailings.Locales)
        {
            foreach (var choice in Choices)
            {
                data.Add(locale, choice);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryMail))]
    public void EveryMail_Renders_WithoutLeftoverTags_AndWithTheUnsubscribeLink(string mailing, string locale, string choice)
    {
        var mail = Render(mailing, locale, choice, TestRenderers.Berlin(5, 19, 10));

        Assert.False(string.IsNullOrWhiteSpace(mail.Subject));
        foreach (var part in new[] { mail.Subject, mail.Html, mail.Text })
        {
            Assert.DoesNotContain("{{", part);
            Assert.DoesNotContain("}}", part);
        }

        Assert.StartsWith("<!DOCTYPE html>", mail.Html);
        Assert.Contains($"<html lang=\"{locale}\"", mail.Html);
        Assert.Contains("href=\"https://mailer.test/unsubscribe/unsubscribe-token\"", mail.Html);
        Assert.Contains("https://mailer.test/unsubscribe/unsubscribe-token", mail.Text);
        Assert.Contains(TestRenderers.PostalAddress, Decoded(mail));
        Assert.Contains(TestRenderers.PostalAddress, mail.Text);
        Assert.Contains("anna@example.org", mail.Text);
    }

    [Theory]
    [MemberData(nameof(CampaignMails))]
    public void CampaignMails_ShowOnlyTheChosenPlatforms_WithButtonsToTheirLinks(string mailing, string locale, string choice)
    {
        var mail = Render(mailing, locale, choice, TestRenderers.Berlin(5, 19, 10));
        var chosen = choice.Split(',');

        foreach (var platform in new[] { "facebook", "instagram" })
        {
            var click = $"https://mailer.test/go/click-token/{platform}";
            var done = $"https://mailer.test/done/done-token/{platform}";
            if (chosen.Contains(platform))
            {
                Assert.Contains($"href=\"{click}\"", mail.Html);
                Assert.Contains($"href=\"{done}\"", mail.Html);
                Assert.Contains(click, mail.Text);
                Assert.Contains(done, mail.Text);
            }
            else
            {
                Assert.DoesNotContain(click, mail.Html + mail.Text);
                Assert.DoesNotContain(done, mail.Html + mail.Text);
            }
        }

        var emoji = new Dictionary<string, string> { ["facebook"] = "📱", ["instagram"] = "📷" };
        foreach (var (platform, sign) in emoji)
        {
            Assert.Equal(chosen.Contains(platform), mail.Text.Contains(sign, StringComparison.Ordinal));
            Assert.Equal(chosen.Contains(platform), mail.Html.Contains(sign, StringComparison.Ordinal));
        }

        Assert.DoesNotContain("confirm-token", mail.Html + mail.Text);
    }

    [Theory]
    [MemberData(nameof(LocalesAndChoices))]
    public void Announcement_HasEveryStep_InOrder_WithTheMenuLabelsLetterForLetter(string locale, string choice)
    {
        var mail = Render(Mailings.Announcement, locale, choice, TestRenderers.Berlin(5, 19, 10));
        var chosen = choice.Split(',');
        var expectedSteps = (chosen.Contains("facebook") ? 7 : 0) + (chosen.Contains("instagram") ? 6 : 0);

        Assert.Equal(expectedSteps, CountOccurrences(mail.Html, "<li"));
        Assert.Equal(expectedSteps, mail.Text.Split('\n').Count(line => IsNumberedStep(line)));
        foreach (var body in new[] { Decoded(mail), mail.Text })
        {
            AssertStepsOfChosenPlatforms(body, chosen);
            Assert.Contains("„Meta AI“", body);
        }
    }

    [Theory]
    [MemberData(nameof(LocalesAndChoices))]
    public void Reminders_RepeatTheStepsBriefly_WithTheMenuLabelsLetterForLetter(string locale, string choice)
    {
        foreach (var mailing in new[] { Mailings.ReminderWeek, Mailings.ReminderFinal })
        {
            var mail = Render(mailing, locale, choice, TestRenderers.Berlin(5, 19, 10));
            foreach (var body in new[] { Decoded(mail), mail.Text })
            {
                AssertStepsOfChosenPlatforms(body, choice.Split(','));
            }
        }
    }

    [Theory]
    [InlineData("de")]
    [InlineData("en")]
    public void Confirm_AsksOnlyForTheConfirmation_WithItsLink_AndNoGuide(string locale)
    {
        var mail = Render(Mailings.Confirm, locale, "facebook,instagram", TestRenderers.Berlin(5, 19, 10));

        Assert.Contains("href=\"https://mailer.test/confirm/confirm-token\"", mail.Html);
        Assert.Contains("https://mailer.test/confirm/confirm-token", mail.Text);
        foreach (var body in new[] { Decoded(mail), mail.Text })
        {
            Assert.DoesNotContain("„Datenschutzrichtlinie“", body);
            Assert.DoesNotContain("📱", body);
            Assert.DoesNotContain("📷", body);
            Assert.DoesNotContain("WhatsApp", body);
            Assert.DoesNotContain("click-token", body);
            Assert.DoesNotContain("done-token", body);
        }

        Assert.DoesNotContain("<ol", mail.Html);
    }

    [Theory]
    [InlineData("de", "26. Mai 2024", "23:59")]
    [InlineData("en", "26 May 2024", "23:59")]
    public void Announcement_FormatsTheDeadlineForTheLocale(string locale, string date, string time)
    {
        var mail = Render(Mailings.Announcement, locale, "facebook", TestRenderers.Berlin(5, 19, 10));

        Assert.Contains(date, mail.Subject);
        Assert.Contains($"{date}, {time}", Decoded(mail));
        Assert.Contains($"{date}, {time}", mail.Text);
    }

    [Theory]
    [InlineData("de", "Noch 7 Tage")]
    [InlineData("en", "7 days left")]
    public void ReminderWeek_OnTheNineteenthOfMay_SaysSevenDaysAreLeft(string locale, string expected)
    {
        var mail = Render(Mailings.ReminderWeek, locale, "facebook", TestRenderers.Berlin(5, 19, 10));

        Assert.Contains(expected, Decoded(mail), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(expected, mail.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("de", "Heute ist der letzte Tag")]
    [InlineData("en", "Today is the last day")]
    public void ReminderFinal_OnTheLastDay_SaysTodayIsTheLastDay(string locale, string expected)
    {
        // 00:30 in Berlin on the 26th is still the 25th in UTC: the day counts in the campaign's time zone.
        foreach (var now in new[] { new DateTimeOffset(2024, 5, 25, 22, 30, 0, TimeSpan.Zero), TestRenderers.Berlin(5, 26, 23, 30) })
        {
            var mail = Render(Mailings.ReminderFinal, locale, "instagram", now);

            Assert.Contains(expected, mail.Subject + Decoded(mail), StringComparison.OrdinalIgnoreCase);
            Assert.Contains(expected, mail.Text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("de", "Die Frist ist abgelaufen", "lohnt sich trotzdem")]
    [InlineData("en", "The deadline has passed", "still worth it")]
    public void Announcement_AfterTheDeadline_SaysItPassed_AndThatObjectingStillProtectsWhatComes(string locale, string passed, string stillWorth)
    {
        var before = Render(Mailings.Announcement, locale, "facebook", TestRenderers.Berlin(5, 26, 23, 59));
        var after = Render(Mailings.Announcement, locale, "facebook", TestRenderers.Berlin(5, 27, 0, 1));

        foreach (var body in new[] { Decoded(after), after.Text })
        {
            Assert.Contains(passed, body, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(stillWorth, body, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(passed, Decoded(before) + before.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Render_WithAnUnknownMailingOrLocale_ThrowsArgumentException()
    {
        var renderer = TestRenderers.Shared;
        var links = TestRenderers.Links("facebook");

        Assert.Throws<ArgumentException>(() => renderer.Render("newsletter", Recipient("de", "facebook"), links, TestRenderers.Berlin(5, 19, 10)));
        Assert.Throws<ArgumentException>(() => renderer.Render(Mailings.Announcement, Recipient("fr", "facebook"), links, TestRenderers.Berlin(5, 19, 10)));
    }

    [Fact]
    public void Render_ConfirmWithoutAConfirmUrl_ThrowsArgumentException()
    {
        var links = TestRenderers.Links("facebook") with { ConfirmUrl = null };

        Assert.Throws<ArgumentException>(() => TestRenderers.Shared.Render(Mailings.Confirm, Recipient("de", "facebook"), links, TestRenderers.Berlin(5, 19, 10)));
    }

    [Fact]
    public void Render_LeavesOutPlatformsTheCampaignDoesNotHave_AndKeepsTheCampaignsOrder()
    {
        var recipient = new Recipient(7, "anna@example.org", "de", ["threads", "instagram", "facebook"]);

        var mail = TestRenderers.Shared.Render(Mailings.Announcement, recipient, TestRenderers.Links("facebook", "instagram"), TestRenderers.Berlin(5, 19, 10));

        Assert.DoesNotContain("threads", mail.Html + mail.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(mail.Text.IndexOf("📱", StringComparison.Ordinal) < mail.Text.IndexOf("📷", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_FromManyThreadsAtOnce_GivesTheSameMailsAsOneAfterAnother()
    {
        var recipients = Enumerable.Range(0, 64)
            .Select(i => new Recipient(i, $"person{i}@example.org", Mailings.Locales[i % 2], i % 3 == 0 ? ["facebook"] : ["facebook", "instagram"]))
            .ToList();
        var links = TestRenderers.Links("facebook", "instagram");
        string Mailing(int i) => Mailings.All[i % Mailings.All.Count];
        var expected = recipients.Select((r, i) => TestRenderers.Shared.Render(Mailing(i), r, links, TestRenderers.Berlin(5, 19, 10))).ToList();

        var actual = new RenderedMail[recipients.Count];
        Parallel.For(0, recipients.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            var i = n % recipients.Count;
            actual[i] = TestRenderers.Shared.Render(Mailing(i), recipients[i], links, TestRenderers.Berlin(5, 19, 10));
        });

        Assert.Equal(expected, actual);
    }

    private static RenderedMail Render(string mailing, string locale, string choice, DateTimeOffset now)
    {
        var platforms = choice.Split(',');
        return TestRenderers.Shared.Render(mailing, Recipient(locale, platforms), TestRenderers.Links(platforms), now);
    }

    private static Recipient Recipient(string locale, params string[] platforms) => new(42, "anna@example.org", locale, platforms);

    private static TheoryData<string, string, string> Matrix(IEnumerable<string> mailings)
    {
        var data = new TheoryData<string, string, string>();
        foreach (var mailing in mailings)
        {
            foreach (var locale in Mailings.Locales)
            {
                foreach (var choice in Choices)
                {
                    data.Add(mailing, locale, choice);
                }
            }
        }

        return data;
    }

    private static string Decoded(RenderedMail mail) => WebUtility.HtmlDecode(mail.Html);

    /// <summary>From each chosen platform's sign (📱 Facebook, 📷 Instagram), its menu labels follow in order.</summary>
    private static void AssertStepsOfChosenPlatforms(string body, string[] chosen)
    {
        if (chosen.Contains("facebook"))
        {
            AssertInOrder(body, "📱", FacebookLabels);
        }

        if (chosen.Contains("instagram"))
        {
            AssertInOrder(body, "📷", InstagramLabels);
        }
        else
        {
            Assert.DoesNotContain("„Privacy Center“", body);
        }
    }

    private static void AssertInOrder(string body, string start, string[] labels)
    {
        var position = body.IndexOf(start, StringComparison.Ordinal);
        Assert.True(position >= 0, $"'{start}' not found");
        foreach (var label in labels)
        {
            var next = body.IndexOf(label, position, StringComparison.Ordinal);
            Assert.True(next > position, $"{label} does not follow in order after position {position}");
            position = next;
        }
    }

    private static bool IsNumberedStep(string line)
    {
        var trimmed = line.TrimStart();
        var dot = trimmed.IndexOf(". ", StringComparison.Ordinal);
        return line.StartsWith("  ", StringComparison.Ordinal) && dot > 0 && trimmed[..dot].All(char.IsAsciiDigit);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
