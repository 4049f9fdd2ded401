using System.Text;
using Ical.Net;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Calendar = Ical.Net.Calendar;

namespace Mailer.Tests.Delivery;

public class MessageFactoryTests
{
    private static ComposedMail Create(string mailing, MessageFactory? factory = null, string email = "anna@example.net", string? subject = null) =>
        (factory ?? TestMails.Factory()).Create(mailing, TestOptions.Recipient(email: email), TestMails.Rendered(subject ?? "Noch 16 Tage"), TestMails.Links());

    private static MimeMessage RoundTrip(ComposedMail message, bool eightBit = true) => message.ToMimeMessage(eightBit);

    [Theory]
    [InlineData("Hello,\nplain ASCII in short lines.\n")]
    [InlineData("Hallo,\nSchritt für Schritt.\n")]
    [InlineData("tab\tand \"quotes\" & <tags>\r\n")]
    [InlineData("a line of 1000 characters: ")]
    public void TransferEncoding_IsWhatMimeKitWouldChooseForAnEightBitServer(string text)
    {
        if (text.StartsWith("a line of 1000", StringComparison.Ordinal))
        {
            text += new string('x', 1000);
        }

        var part = new TextPart("plain");
        part.SetText(Encoding.UTF8, text);

        Assert.Equal(part.GetBestEncoding(EncodingConstraint.EightBit, 998, TestContext.Current.CancellationToken), MessageFactory.TransferEncoding(text));
    }

    [Fact]
    public void TransferEncoding_OfTextWithAControlCharacter_IsQuotedPrintable()
    {
        // MimeKit would let a bell through as 7bit; quoted-printable carries it without doubt.
        Assert.Equal(ContentEncoding.QuotedPrintable, MessageFactory.TransferEncoding("a bell \u0007 in the text"));
        Assert.Equal(ContentEncoding.QuotedPrintable, MessageFactory.TransferEncoding("für \u0085 eine C1-Steuerung"));
    }

    [Fact]
    public void Body_IsTextThenHtml_InUtf8_EightBit_AndSevenBitOnceMailKitPreparesItForA7BitServer()
    {
        var created = Create(Mailings.ReminderWeek);
        Assert.All(Assert.IsType<MultipartAlternative>(RoundTrip(created).Body).Cast<TextPart>(), part => Assert.Equal(ContentEncoding.EightBit, part.ContentTransferEncoding));
        var message = RoundTrip(created, eightBit: false);   // what a server without 8BITMIME gets

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Collection(
            alternative,
            text => Assert.Equal("text/plain", text.ContentType.MimeType),
            html => Assert.Equal("text/html", html.ContentType.MimeType));
        foreach (var part in alternative.Cast<TextPart>())
        {
            Assert.Equal("utf-8", part.ContentType.Charset);
            Assert.Contains(part.ContentTransferEncoding, new[] { ContentEncoding.QuotedPrintable, ContentEncoding.Base64 });
        }

        Assert.Equal(TestMails.Rendered().Text, message.TextBody);
        Assert.Equal(TestMails.Rendered().Html, message.HtmlBody);
    }

    [Fact]
    public void Headers_NameSenderRecipientListAndMailing()
    {
        var time = new FakeTimeProvider(TestMails.Now);
        var message = RoundTrip(Create(Mailings.ReminderFinal, TestMails.Factory(time)));

        Assert.Equal("\"Meta-KI-Widerspruch\" <kampagne@example.org>", message.From.ToString());
        Assert.Empty(message.ReplyTo);
        Assert.Equal("anna@example.net", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("Noch 16 Tage", message.Subject);
        Assert.Equal(TestMails.Now, message.Date);
        Assert.EndsWith("@example.org", message.MessageId);
        Assert.Equal("<meta-ai-objection.example.org>", message.Headers[HeaderId.ListId]);
        Assert.Equal(Mailings.ReminderFinal, message.Headers["X-Mailing"]);
    }

    [Fact]
    public void ReplyTo_IsSetWhenConfigured()
    {
        var factory = TestMails.Factory(mailer: options => options.ReplyTo = "Team <antworten@example.org>");

        var message = RoundTrip(Create(Mailings.Announcement, factory));

        Assert.Equal("antworten@example.org", Assert.Single(message.ReplyTo.Mailboxes).Address);
    }

    [Fact]
    public void MessageIds_AreUnique()
    {
        var factory = TestMails.Factory();

        var ids = Enumerable.Range(0, 1000).Select(_ => Create(Mailings.ReminderWeek, factory).MessageId).ToHashSet();

        Assert.Equal(1000, ids.Count);
    }

    [Theory]
    [InlineData(Mailings.Announcement)]
    [InlineData(Mailings.ReminderWeek)]
    [InlineData(Mailings.ReminderFinal)]
    public void CampaignMails_OfferOneClickUnsubscribe(string mailing)
    {
        var message = RoundTrip(Create(mailing));

        Assert.Equal("<https://kampagne.example.org/unsubscribe/u42>", message.Headers[HeaderId.ListUnsubscribe]);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public void ConfirmMail_HasNoUnsubscribeHeaders()
    {
        var message = RoundTrip(Create(Mailings.Confirm));

        Assert.False(message.Headers.Contains(HeaderId.ListUnsubscribe));
        Assert.False(message.Headers.Contains("List-Unsubscribe-Post"));
        Assert.Equal(Mailings.Confirm, message.Headers["X-Mailing"]);
    }

    [Fact]
    public void Announcement_CarriesTheDeadlineAsCalendar_WithAReminderADayBefore()
    {
        var message = RoundTrip(Create(Mailings.Announcement));

        var mixed = Assert.IsType<Multipart>(message.Body);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        Assert.Equal(2, mixed.Count);
        Assert.IsType<MultipartAlternative>(mixed[0]);
        var ics = Assert.IsAssignableFrom<MimePart>(mixed[1]);
        Assert.Equal("text/calendar", ics.ContentType.MimeType);
        Assert.Equal("PUBLISH", ics.ContentType.Parameters["method"]);
        Assert.Equal("utf-8", ics.ContentType.Charset);
        Assert.EndsWith(".ics", ics.FileName);

        var calendar = Calendar.Load(Decode(ics))!;
        var deadline = Assert.Single(calendar.Events);
        Assert.Equal(TestOptions.Campaign().DeadlineUtc.UtcDateTime, deadline.DtStart!.AsUtc);
        Assert.Equal(new DateTime(2024, 5, 26, 21, 59, 59, DateTimeKind.Utc), deadline.DtStart.AsUtc);
        Assert.Equal("Frist: meta-ai-objection", deadline.Summary);
        Assert.Contains(TestOptions.FacebookForm, deadline.Description);
        var alarm = Assert.Single(deadline.Alarms);
        Assert.Equal(AlarmAction.Display, alarm.Action);
        Assert.Equal(TimeSpan.FromDays(-1), alarm.Trigger!.Duration!.Value.ToTimeSpanUnspecified());
    }

    [Fact]
    public void Announcement_Calendar_IsBuiltOnceAndSharedByAllMessages()
    {
        var time = new FakeTimeProvider(TestMails.Now);
        var factory = TestMails.Factory(time);

        var first = Decode(CalendarPart(RoundTrip(Create(Mailings.Announcement, factory))));
        time.Advance(TimeSpan.FromHours(3));
        var later = Decode(CalendarPart(RoundTrip(Create(Mailings.Announcement, factory, "bernd@example.net"))));

        // Same bytes down to the DTSTAMP: serialized once, not per message.
        Assert.Equal(first, later);
    }

    [Theory]
    [InlineData(Mailings.Confirm)]
    [InlineData(Mailings.ReminderWeek)]
    [InlineData(Mailings.ReminderFinal)]
    public void OtherMails_HaveNoCalendar(string mailing)
    {
        Assert.IsType<MultipartAlternative>(RoundTrip(Create(mailing)).Body);
    }

    [Fact]
    public void SubjectWithLineBreaks_NeverAddsAHeader()
    {
        var message = Create(Mailings.ReminderWeek, subject: "Frist läuft\r\nBcc: victim@example.com\r\n\r\nInjected body\tend");

        var raw = Encoding.UTF8.GetString(message.ToBytes(eightBit: true));
        var parsed = RoundTrip(message);

        Assert.Equal("Frist läuft Bcc: victim@example.com Injected body end", parsed.Subject);
        Assert.Empty(parsed.Bcc);
        Assert.DoesNotContain("\nBcc:", raw, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(TestMails.Rendered().Text, parsed.TextBody);
    }

    [Theory]
    [InlineData("anna@example.net\r\nBcc: victim@example.com")]
    [InlineData("anna@example.net\n")]
    [InlineData("not an address")]
    [InlineData("Anna <anna@example.net>")]
    [InlineData("anna@example.net, bernd@example.net")]
    [InlineData("")]
    public void RecipientThatIsNotOnePlainAddress_IsRejected(string email)
    {
        Assert.Throws<ArgumentException>(() => Create(Mailings.ReminderWeek, email: email));
    }

    private static MimePart CalendarPart(MimeMessage message) => Assert.IsAssignableFrom<MimePart>(Assert.IsType<Multipart>(message.Body)[1]);

    private static string Decode(MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
