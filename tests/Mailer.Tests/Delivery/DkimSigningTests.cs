using System.Text;
using Mailer.Delivery;
using Mailer.Delivery.Dkim;
using Mailer.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace Mailer.Tests.Delivery;

/// <summary>What a signature covers and what breaks it, judged by dkimpy (not MimeKit), on hand-made test mails.</summary>
public class DkimSigningTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static readonly FormatOptions Wire = CreateWire();

    [Fact]
    public async Task TamperingWithASignedHeaderOrTheBody_FailsVerification_RefoldingDoesNot()
    {
        var signing = TestDkimKeys.Signing(ed25519: false);
        var confirm = Latin1(Signed(TestMails.Message(1, Mailings.Confirm), eightBit: false, signing));
        var reminder = Latin1(Signed(TestMails.Message(2, Mailings.ReminderWeek), eightBit: false, signing));
        var cases = new (string Name, string Message, bool Valid)[]
        {
            ("untouched reminder", reminder, true),
            ("untouched confirm", confirm, true),
            ("subject refolded and spaced (relaxed)", Replace(reminder, "Subject: Erinnerung 2", "Subject:   Erinnerung\r\n  2"), true),
            ("subject changed", Replace(reminder, "Subject: Erinnerung 2", "Subject: Erinnerung 3"), false),
            ("unsubscribe link changed", Replace(reminder, "/unsubscribe/u2>", "/unsubscribe/evil>"), false),
            ("second From on top", "From: Bank <security@bank.example>\r\n" + reminder, false),
            ("Reply-To added", "Reply-To: thief@example.com\r\n" + reminder, false),
            ("List-Unsubscribe added to the opt-in request", "List-Unsubscribe: <https://evil.example/u>\r\n" + confirm, false),
            ("Feedback-ID changed", Replace(reminder, ":bulk:", ":optin:"), false),
            ("body changed", Replace(reminder, "Hallo,", "Hallo!"), false),
        };

        var verdicts = await DkimVerifier.VerifyAsync(TestDkimKeys.Records, [.. cases.Select(c => Encoding.Latin1.GetBytes(c.Message))]);

        for (var i = 0; i < cases.Length; i++)
        {
            var verdict = Assert.Single(verdicts[i]);
            Assert.True(cases[i].Valid == verdict.Valid, $"{cases[i].Name}: expected {(cases[i].Valid ? "valid" : "invalid")}; dkimpy: {verdict.Log}");
        }
    }

    [Fact]
    public async Task SignedAs8Bit_ThenReencodedFor7Bit_NoLongerVerifies_SoTheEncodingIsChosenFirst()
    {
        var signing = TestDkimKeys.Signing(ed25519: false);
        // What a relay or a client does for a hop without 8BITMIME: quoted-printable instead of 8bit, after signing.
        var trapped = MimeMessage.Load(new MemoryStream(Signed(TestMails.Message(1), eightBit: true, signing)), Cancel);
        trapped.Prepare(EncodingConstraint.SevenBit, 998);
        var right = Signed(TestMails.Message(1), eightBit: false, signing);

        var verdicts = await DkimVerifier.VerifyAsync(TestDkimKeys.Records, [Write(trapped), right]);

        Assert.False(Assert.Single(verdicts[0]).Valid);
        Assert.True(Assert.Single(verdicts[1]).Valid, verdicts[1][0].Log);
        Assert.DoesNotContain(right, b => b >= 0x80);
    }

    [Fact]
    public async Task BothKeys_SignAlongside_OverTheHeadersAndTheirAbsence()
    {
        var message = Signed(TestMails.Message(1), eightBit: true, TestDkimKeys.Signing());

        var verdicts = await DkimVerifier.VerifyAsync(TestDkimKeys.Records, message);

        Assert.Equal(["ed25519-sha256", "rsa-sha256"], verdicts.Select(v => v.Algorithm).Order());
        Assert.All(verdicts, v => Assert.True(v.Valid, v.Log));
        Assert.All(verdicts, v => Assert.Equal(TestDkimKeys.Domain, v.Domain));
        var signed = string.Concat(verdicts[0].Headers.Where(c => !char.IsWhiteSpace(c))).Split(':');
        foreach (var header in new[] { "from", "reply-to", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id", "list-unsubscribe", "list-unsubscribe-post", "feedback-id" })
        {
            Assert.Equal(2, signed.Count(name => name == header));
        }

        Assert.Contains(message, b => b >= 0x80);
    }

    [Theory]
    [InlineData(Mailings.ReminderFinal, true)]
    [InlineData(Mailings.ReminderFinal, false)]
    [InlineData(Mailings.Announcement, true)]
    [InlineData(Mailings.Confirm, false)]
    public void BodyHash_IsTheOneMimeKitsOwnSignerComputes_AndMimeKitVerifiesTheSignature(string mailing, bool eightBit)
    {
        var time = new FakeTimeProvider(TestMails.Now);
        var ours = MimeMessage.Load(new MemoryStream(Signed(TestMails.Message(1, mailing), eightBit, TestDkimKeys.Signing(time, ed25519: false))), Cancel);
        // The same bytes without our signature, signed by MimeKit's own signer (BouncyCastle's RSA and SHA-256).
        var theirs = MimeMessage.Load(new MemoryStream(Write(ours)), Cancel);
        theirs.Headers.RemoveAll(HeaderId.DkimSignature);

        AsymmetricKeyParameter key;
        using (var reader = new PemReader(new StringReader(File.ReadAllText(TestDkimKeys.RsaPath))))
        {
            key = ((AsymmetricCipherKeyPair)reader.ReadObject()).Private;
        }

        new FixedTimeSigner(key, time.GetUtcNow().ToUnixTimeSeconds())
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        }.Sign(Wire, theirs, [.. DkimSigning.SignedHeaders]);

        Assert.Equal(Tag(theirs, "bh"), Tag(ours, "bh"));
        Assert.Equal(Tag(theirs, "t"), Tag(ours, "t"));
        var verifier = new MimeKit.Cryptography.DkimVerifier(new PublicKeys((RsaPrivateCrtKeyParameters)key));
        Assert.True(verifier.Verify(ours, ours.Headers[ours.Headers.IndexOf(HeaderId.DkimSignature)], Cancel));
    }

    private static string Tag(MimeMessage message, string name) =>
        string.Concat(message.Headers[HeaderId.DkimSignature]!.Where(c => !char.IsWhiteSpace(c))).Split(';')
            .Single(t => t.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    private sealed class PublicKeys(RsaPrivateCrtKeyParameters key) : IDkimPublicKeyLocator
    {
        private readonly AsymmetricKeyParameter _public = new RsaKeyParameters(false, key.Modulus, key.PublicExponent);

        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => _public;

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(_public);
    }

    [Fact]
    public async Task MessageSentTwice_CarriesOneSignaturePerKey()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), TimeProvider.System, NullLogger<SmtpTransport>.Instance, TestDkimKeys.Signing());
        var message = TestMails.Message(1);

        await using (var connection = await transport.OpenAsync(Cancel))
        {
            Assert.True((await connection.SendAsync(message, Cancel)).IsAccepted);
            Assert.True((await connection.SendAsync(message, Cancel)).IsAccepted);
        }

        await server.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        var second = server.Messages[1];
        Assert.Equal(2, second.Message.Headers.Count(h => h.Id == HeaderId.DkimSignature));
        Assert.All(await DkimVerifier.VerifyAsync(TestDkimKeys.Records, second.Raw), v => Assert.True(v.Valid, v.Log));
    }

    [Fact]
    public async Task WithoutDkimSettings_NothingIsSigned()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var signing = TestDkimKeys.Signing(options: new DkimOptions());
        var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), TimeProvider.System, NullLogger<SmtpTransport>.Instance, signing);

        await using (var connection = await transport.OpenAsync(Cancel))
        {
            Assert.True((await connection.SendAsync(TestMails.Message(1), Cancel)).IsAccepted);
        }

        await server.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
        Assert.False(signing.IsEnabled);
        Assert.False(Assert.Single(server.Messages).Message.Headers.Contains(HeaderId.DkimSignature));
    }

    /// <summary>The message written for an 8bit or a 7-bit channel and signed, as the transports do.</summary>
    internal static byte[] Signed(ComposedMail message, bool eightBit, DkimSigning signing)
    {
        using var buffer = new MailBuffer();
        signing.Sign(buffer, message.WriteTo(buffer, eightBit));
        return buffer.Written.ToArray();
    }

    private static byte[] Write(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(Wire, stream);
        return stream.ToArray();
    }

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static string Replace(string message, string what, string with)
    {
        Assert.Contains(what, message, StringComparison.Ordinal);
        return message.Replace(what, with, StringComparison.Ordinal);
    }

    private static FormatOptions CreateWire()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    private sealed class FixedTimeSigner(AsymmetricKeyParameter key, long timestamp) : DkimSigner(key, TestDkimKeys.Domain, TestDkimKeys.Selector)
    {
        protected override long GetTimestamp() => timestamp;
    }
}
