using MailKit.Net.Smtp;
using MimeKit;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// MailKit's client, signing each message where MailKit prepares it: by then MailKit has chosen the encoding
/// this server takes (8bit with 8BITMIME, else 7bit), so the signature covers exactly the bytes that go on the
/// wire. MailKit leaves a signed message as it is, and so must everything after it.
/// </summary>
internal sealed class SigningSmtpClient(DkimSigning signing) : SmtpClient
{
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        // As MailKit does for a signed message: no header re-encoded as raw UTF-8 after signing.
        options.International = false;
        signing.PrepareAndSign(message, constraint, maxLineLength, options);
    }
}
