using Mailer.Rendering;
using Scriban;

namespace Mailer.Tests.Rendering;

/// <summary>Filling in rendered variants gives exactly the mails that rendering each one gives, or is not used.</summary>
public class MailVariantsTests
{
    [Fact]
    public void TheRealTemplates_AreFilledIn()
    {
        Assert.True(TestRenderers.Shared.FillsInVariants);
    }

    [Theory]
    [InlineData("{{ email }} {{ unsubscribe_url }} {{ for platform in platforms }}{{ platform.url }}{{ platform.done_url }}{{ platform.label }}{{ end }}")]
    [InlineData("{{ if platform.name == \"facebook\" }}{{ platform.url }}{{ end }}{{ platforms.size }}")]
    public void TemplatesThatPrintTheValues_CanBeFilledIn(string template)
    {
        Assert.Null(MailVariants.WhyNot([Template.Parse(template, "ok.sbn")]));
    }

    [Theory]
    [InlineData("{{ if email | string.contains \"gmail\" }}Gmail{{ end }}")]
    [InlineData("{{ email | string.upcase }}")]
    [InlineData("{{ x = unsubscribe_url }}{{ x }}")]
    [InlineData("{{ \"<\" + confirm_url + \">\" }}")]
    [InlineData("{{ for platform in platforms }}{{ platform.url | string.size }}{{ end }}")]
    [InlineData("{{ for platform in platforms }}{{ platform[\"done_url\"] | string.downcase }}{{ end }}")]
    [InlineData("{{ platforms | array.map \"url\" | array.join \", \" }}")]
    public void TemplatesThatDoMoreWithTheValues_AreNamedWithTheirLine(string template)
    {
        var reason = MailVariants.WhyNot([Template.Parse(template, "misuse.sbn")]);

        Assert.NotNull(reason);
        Assert.Contains("misuse.sbn(1)", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ATemplateThatLooksAtTheAddress_IsRenderedInFull_ForEachSubscriber()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var footer = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "partials", "footer.txt.sbn");
        File.WriteAllText(footer, "{{ if email | string.contains \"@gmail\" }}Hallo Gmail!{{ end }}\n" + File.ReadAllText(footer));
        var renderer = TestRenderers.Create(templates);
        var links = TestRenderers.Links("facebook");

        var gmail = renderer.Render(Mailings.ReminderFinal, new Recipient(1, "anna@gmail.com", "de", ["facebook"]), links, TestRenderers.Berlin(5, 26, 8));
        var other = renderer.Render(Mailings.ReminderFinal, new Recipient(2, "ben@example.org", "de", ["facebook"]), links, TestRenderers.Berlin(5, 26, 8));

        Assert.False(renderer.FillsInVariants);
        Assert.Contains("Hallo Gmail!", gmail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Hallo Gmail!", other.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void FilledInMails_EncodeEachSubscribersValuesForHtml_AndKeepThemApart()
    {
        var renderer = TestRenderers.Shared;
        var links = new MailLinks(null, "https://mailer.test/unsubscribe/a&b", new Dictionary<string, string> { ["facebook"] = "https://mailer.test/go/\"x\"/facebook" },
            new Dictionary<string, string> { ["facebook"] = "https://mailer.test/done/<y>/facebook" });
        var first = renderer.Render(Mailings.ReminderWeek, new Recipient(1, "o'hara+news@example.org", "en", ["facebook"]), links, TestRenderers.Berlin(5, 19, 10));
        var second = renderer.Render(Mailings.ReminderWeek, new Recipient(2, "zoe@example.org", "en", ["facebook"]), TestRenderers.Links("facebook"), TestRenderers.Berlin(5, 19, 10));

        Assert.Contains("o&#x27;hara&#x2B;news@example.org", first.Html, StringComparison.Ordinal);
        Assert.Contains("o'hara+news@example.org", first.Text, StringComparison.Ordinal);
        Assert.Contains("https://mailer.test/unsubscribe/a&amp;b", first.Html, StringComparison.Ordinal);
        Assert.Contains("https://mailer.test/go/&quot;x&quot;/facebook", first.Html, StringComparison.Ordinal);
        Assert.Contains("https://mailer.test/done/&lt;y&gt;/facebook", first.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("o'hara", second.Text, StringComparison.Ordinal);
        Assert.Contains("zoe@example.org", second.Html, StringComparison.Ordinal);
    }
}
