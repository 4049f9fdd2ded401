using Mailer.Rendering;
using MimeKit;

namespace Mailer.Delivery;

/// <summary>
/// One personalized message, ready to be written as bytes (<see cref="MessageFactory"/> writes it): what differs from
/// one subscriber to the next (address, links, date, Message-Id, the MIME boundary) and the rendered mail. It is
/// written only once the channel is known, 8bit where the server takes it, else 7-bit clean, and signed over exactly
/// those bytes.
/// </summary>
public sealed class ComposedMail
{
    internal ComposedMail(MessageFactory factory, string mailing, MailboxAddress recipient, byte[]? toHeader, RenderedMail rendered,
        string? unsubscribeUrl, DateTimeOffset date, string messageId, string boundary, string? outerBoundary)
    {
        Factory = factory;
        Mailing = mailing;
        Recipient = recipient.Address;
        RecipientMailbox = recipient;
        ToHeader = toHeader;
        Rendered = rendered;
        UnsubscribeUrl = unsubscribeUrl;
        Date = date;
        MessageId = messageId;
        Boundary = boundary;
        OuterBoundary = outerBoundary;
        TextEncoding = MessageFactory.TransferEncoding(rendered.Text);
        HtmlEncoding = MessageFactory.TransferEncoding(rendered.Html);
    }

    /// <summary>The mailing (see <see cref="Mailings"/>).</summary>
    public string Mailing { get; }

    /// <summary>The recipient's address: the one <c>RCPT TO</c>.</summary>
    public string Recipient { get; }

    /// <summary>The Message-Id without angle brackets, as the ledger records it.</summary>
    public string MessageId { get; }

    public DateTimeOffset Date { get; }

    /// <summary>The subject, text and HTML as rendered for this subscriber.</summary>
    public RenderedMail Rendered { get; }

    internal MessageFactory Factory { get; }

    internal MailboxAddress RecipientMailbox { get; }

    /// <summary>The <c>To</c> header as MimeKit formats it, for an address that is not plain ASCII; null: written as it is.</summary>
    internal byte[]? ToHeader { get; }

    internal string? UnsubscribeUrl { get; }

    internal string Boundary { get; }

    /// <summary>The multipart/mixed around the alternative and the calendar file, on the announcement only.</summary>
    internal string? OuterBoundary { get; }

    internal ContentEncoding TextEncoding { get; }

    internal ContentEncoding HtmlEncoding { get; }

    /// <summary>Whether written for an 8bit channel, any part travels as 8bit (MAIL FROM then says BODY=8BITMIME).</summary>
    internal bool IsEightBit => TextEncoding == ContentEncoding.EightBit || HtmlEncoding == ContentEncoding.EightBit;

    /// <summary>The message as it would travel, 8bit or 7-bit clean; the length of its header (up to the blank line).</summary>
    internal int WriteTo(MailBuffer buffer, bool eightBit) => Factory.Write(this, buffer, eightBit);

    /// <summary>The message as bytes (CRLF line ends), for files and tests.</summary>
    public byte[] ToBytes(bool eightBit)
    {
        using var buffer = new MailBuffer();
        WriteTo(buffer, eightBit);
        return buffer.Written.ToArray();
    }

    /// <summary>The bytes parsed back by MimeKit: for the preview and for tests, never on the send path.</summary>
    public MimeMessage ToMimeMessage(bool eightBit = true)
    {
        using var stream = new MemoryStream(ToBytes(eightBit), writable: false);
        return MimeMessage.Load(stream);
    }
}
