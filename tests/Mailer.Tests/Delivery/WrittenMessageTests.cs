using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Tests.Rendering;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>
/// The bytes Mailer writes for a message are the message MimeKit's tree gives for the same input: every mailing from
/// the real templates, in both languages, for each choice of platforms, for plain and unusual addresses, for an 8bit
/// and a 7-bit server, unsigned and signed. Compared part by part after MimeKit parses both, and octet by octet.
/// </summary>
public class WrittenMessageTests
{
    private static readonly DateTimeOffset Now = TestRenderers.Berlin(5, 20, 9);

    private static readonly string[][] PlatformChoices = [[], ["facebook"], ["instagram"], ["facebook", "instagram"]];

    private static readonly string[] Addresses = ["anna@example.net", "o'hara+news&more@exämple.org"];

    public static TheoryData<string, bool> Cases() => new(
        from mailing in Mailings.All from eightBit in new[] { true, false } select (mailing, eightBit));

    [Theory]
    [MemberData(nameof(Cases))]
    public void WrittenMessage_IsWhatMimeKitBuildsForTheSameInput_PartByPart(string mailing, bool eightBit)
    {
        var count = 0;
        foreach (var (mail, links, time) in Mails(mailing))
        {
            var ours = mail.ToBytes(eightBit);
            var theirs = MimeKitReference.Write(mail, TestRenderers.Mailer(), TestRenderers.Campaign(), time, links, eightBit);

            AssertSameMessage(Parse(theirs), Parse(ours), $"{mailing} to {mail.Recipient}, {(eightBit ? "8bit" : "7bit")}");
            Assert.Equal(Text(theirs), Text(ours));
            if (!eightBit)
            {
                Assert.DoesNotContain(ours, b => b >= 0x80);
            }

            count++;
        }

        Assert.True(count >= 8);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SignedMessage_IsTheSameMessage_WithASignatureDkimpyVerifies(string mailing, bool eightBit)
    {
        var time = new FakeTimeProvider(Now);
        var signing = TestDkimKeys.Signing(time);
        var signed = new List<byte[]>();
        foreach (var (mail, links, mailTime) in Mails(mailing))
        {
            var bytes = DkimSigningTests.Signed(mail, eightBit, signing);
            var parsed = Parse(bytes);
            Assert.Equal(2, parsed.Headers.Count(h => h.Id == HeaderId.DkimSignature));
            parsed.Headers.RemoveAll(HeaderId.DkimSignature);
            AssertSameMessage(Parse(MimeKitReference.Write(mail, TestRenderers.Mailer(), TestRenderers.Campaign(), mailTime, links, eightBit)), parsed, mailing);
            signed.Add(bytes);
        }

        var verdicts = await DkimVerifier.VerifyAsync(TestDkimKeys.Records, [.. signed]);

        Assert.All(verdicts, message => Assert.All(message, v => Assert.True(v.Valid, v.Log)));
    }

    private static IEnumerable<(ComposedMail Mail, MailLinks Links, TimeProvider Time)> Mails(string mailing)
    {
        var time = new FakeTimeProvider(Now);
        var factory = new MessageFactory(Options.Create(TestRenderers.Mailer()), Options.Create(TestRenderers.Campaign()), time);
        var reminder = mailing is Mailings.ReminderWeek or Mailings.ReminderFinal;
        foreach (var locale in Mailings.Locales)
        {
            foreach (var platforms in PlatformChoices.Where(p => p.Length > 0 || !reminder))
            {
                foreach (var (address, i) in Addresses.Select((a, i) => (a, i)))
                {
                    var recipient = new Recipient(100 + i, address, locale, platforms);
                    var links = TestRenderers.Links(platforms);
                    var rendered = TestRenderers.Shared.Render(mailing, recipient, links, Now);
                    yield return (factory.Create(mailing, recipient, rendered, links), links, time);
                }
            }
        }
    }

    private static void AssertSameMessage(MimeMessage expected, MimeMessage actual, string what)
    {
        Assert.Equal(Fields(expected.Headers), Fields(actual.Headers));
        var expectedParts = Parts(expected).ToList();
        var actualParts = Parts(actual).ToList();
        Assert.True(expectedParts.Count == actualParts.Count, $"{what}: {actualParts.Count} parts, MimeKit {expectedParts.Count}");
        for (var i = 0; i < expectedParts.Count; i++)
        {
            Assert.Equal(expectedParts[i], actualParts[i]);
        }
    }

    private static List<string> Fields(HeaderList headers) => [.. headers.Select(h => $"{h.Field}: {h.Value}")];

    /// <summary>Each entity of the tree: its header fields and, for a leaf, its content decoded.</summary>
    private static IEnumerable<string> Parts(MimeMessage message)
    {
        using var iterator = new MimeIterator(message);
        while (iterator.MoveNext())
        {
            var entity = iterator.Current;
            var content = "";
            if (entity is MimePart { Content: not null } part)
            {
                using var decoded = new MemoryStream();
                part.Content.DecodeTo(decoded);
                content = Convert.ToHexString(decoded.ToArray());
            }

            yield return $"{iterator.PathSpecifier} {string.Join(" | ", Fields(entity.Headers))} {content}";
        }
    }

    private static MimeMessage Parse(byte[] bytes) => MimeMessage.Load(new MemoryStream(bytes));

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
