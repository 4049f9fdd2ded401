using System.Text;
using System.Text.RegularExpressions;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>
/// Gmail's <c>Feedback-ID: a:b:c:SenderId</c> (Postmaster Tools, "Feedback Loop"): at most four colon-separated
/// fields, read from the right; the last, the sender id, 5-15 characters and the same on all mail of the sender.
/// Mailer's four: the mailing, the campaign, the stream (<c>optin</c> or <c>bulk</c>), the sender id.
/// </summary>
public partial class FeedbackIdTests
{
    [GeneratedRegex("^[A-Za-z0-9-]{5,15}$")]
    private static partial Regex SenderId();

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex Field();

    [Fact]
    public async Task EveryMailing_AsTheAppComposesIt_CarriesOneFeedbackId_MailingCampaignStreamAndSenderId()
    {
        await using var app = new MailerAppFactory();
        var composer = app.Services.GetRequiredService<MailComposer>();

        foreach (var mailing in Mailings.All)
        {
            var message = Written(composer.Compose(mailing, TestOptions.Recipient(), new DateTimeOffset(2024, 5, 19, 7, 0, 0, TimeSpan.Zero)));

            var fields = Assert.Single(message.Headers, h => h.Field.Equals("Feedback-ID", StringComparison.OrdinalIgnoreCase)).Value.Trim().Split(':');
            Assert.Equal([mailing, "meta-ai-objection", mailing == Mailings.Confirm ? "optin" : "bulk", "example"], fields);
            Assert.All(fields, field => Assert.Matches(Field(), field));
            // Gmail counts each field on its own: one value in two fields would mix unrelated counts.
            Assert.Equal(fields.Length, fields.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        }
    }

    [Theory]
    [InlineData("kampagne@example.org", "example")]
    [InlineData("kampagne@news.example.org", "example")]
    [InlineData("kampagne@abc.de", "abcde")]
    [InlineData("kampagne@ab.de", null)]
    [InlineData("kampagne@a.de", null)]
    [InlineData("kampagne@bücher.de", "xn--bcher-kva")]
    [InlineData("kampagne@verbraucherschutzblog.de", "verbraucherschu")]
    [InlineData("kampagne@abcd--------------efg.de", null)]
    [InlineData("kampagne@[192.0.2.1]", null)]
    [InlineData("kampagne@[IPv6:2001:db8::1]", null)]
    public void DefaultSenderId_IsFiveToFifteenLettersDigitsOrHyphens_WhateverFromsDomain(string from, string? expected)
    {
        var message = Written(TestMails.Factory(mailer: m => m.From = from).Create(Mailings.ReminderWeek, TestOptions.Recipient(), TestMails.Rendered(), TestMails.Links()));

        var fields = Assert.Single(message.Headers, h => h.Field == "Feedback-ID").Value.Trim().Split(':');
        Assert.Equal(4, fields.Length);
        Assert.Matches(SenderId(), fields[3]);
        if (expected is not null)
        {
            Assert.Equal(expected, fields[3]);
        }
    }

    [Theory]
    [InlineData("Mailer:FeedbackSenderId", "abcde\r\nBcc: victim@example.com")]
    [InlineData("Mailer:FeedbackSenderId", "abcde\n")]
    [InlineData("Mailer:FeedbackSenderId", "abc:de:fg")]
    [InlineData("Mailer:FeedbackSenderId", "bücher")]
    [InlineData("Mailer:FeedbackSenderId", "abcd")]
    [InlineData("Campaign:Name", "meta\r\nBcc: victim@example.com")]
    [InlineData("Campaign:Name", "meta:ai")]
    public async Task AFieldThatCouldBreakTheHeader_StopsTheStart_NamingTheKey(string key, string value)
    {
        await using var app = new MailerAppFactory { Settings = { [key] = value } };

        var error = Assert.ThrowsAny<OptionsValidationException>(() => app.Server);

        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData("abcde\r\nBcc: victim@example.com", "meta-ai-objection")]
    [InlineData("abc:de:fg", "meta-ai-objection")]
    [InlineData("example", "meta\r\nBcc: victim@example.com")]
    [InlineData("example", "")]
    public void TheFactory_GivenUncheckedOptions_RefusesAHostileField_InsteadOfWritingIt(string senderId, string campaign)
    {
        var error = Assert.Throws<ArgumentException>(() => new MessageFactory(
            Options.Create(TestOptions.Mailer(m => m.FeedbackSenderId = senderId)),
            Options.Create(TestOptions.Campaign(c => c.Name = campaign)),
            TimeProvider.System));

        Assert.Contains("Feedback-ID", error.Message);
    }

    private static MimeMessage Written(ComposedMail message)
    {
        var bytes = message.ToBytes(eightBit: true);
        Assert.DoesNotContain("victim", Encoding.Latin1.GetString(bytes));
        return MimeMessage.Load(new MemoryStream(bytes));
    }
}
