using Mailer.Hosting;
using Mailer.Rendering;

namespace Mailer.Tests.Rendering;

/// <summary>Values from outside the templates reach the HTML part only encoded, and the subject only as one line.</summary>
public class HtmlSafetyTests
{
    private const string Script = "<script>alert(1)</script>";
    private const string Breakout = "\"><img src=x onerror=alert(1)>";

    [Theory]
    [InlineData("de")]
    [InlineData("en")]
    public void HostileAddressSenderAndPostalAddress_AreEncodedInEveryHtmlPart(string locale)
    {
        var renderer = TestRenderers.Create(mailer: new MailerOptions
        {
            From = $"\"{Script}\" <kampagne@example.org>",
            PostalAddress = $"Musterstraße 1 {Script}\r\n{Breakout}\r\n10115 Berlin",
        });
        var recipient = new Recipient(1, $"{Script}{Breakout}\r\nBcc: x@example.org", locale, ["facebook", "instagram"]);
        var links = TestRenderers.Links("facebook", "instagram") with { UnsubscribeUrl = "https://mailer.test/unsubscribe/t?a=1&b=\"><script>" };

        foreach (var mailing in Mailings.All)
        {
            var mail = renderer.Render(mailing, recipient, links, TestRenderers.Berlin(5, 19, 10));

            Assert.DoesNotContain("<script", mail.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", mail.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Breakout, mail.Html);
            Assert.DoesNotContain("\r", mail.Html);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", mail.Html);
            Assert.Contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;", mail.Html);
            Assert.Contains("href=\"https://mailer.test/unsubscribe/t?a=1&amp;b=&quot;&gt;&lt;script&gt;\"", mail.Html);
            Assert.Contains("Musterstraße", mail.Html);

            // The text part is not HTML: it keeps the values as they are, but on one line each.
            Assert.Contains(Script + Breakout + " Bcc: x@example.org", mail.Text);
            Assert.DoesNotContain("\r", mail.Text);
            Assert.DoesNotContain("\r", mail.Subject);
            Assert.DoesNotContain("\n", mail.Subject);
        }
    }

    [Fact]
    public void Subject_BuiltFromAHostileAddress_IsOneLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        File.WriteAllText(Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "announcement.subject.sbn"), "Hallo {{ email }}\nzweite Zeile\t mit Tab\n");
        var renderer = TestRenderers.Create(templates);
        var recipient = new Recipient(1, "anna@example.org\r\nBcc: x@example.org\u0085\u2028", "de", ["facebook"]);

        var mail = renderer.Render(Mailings.Announcement, recipient, TestRenderers.Links("facebook"), TestRenderers.Berlin(5, 19, 10));

        Assert.Equal("Hallo anna@example.org Bcc: x@example.org zweite Zeile mit Tab", mail.Subject);
    }
}
