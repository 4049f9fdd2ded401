using System.Buffers;
using System.Collections.Concurrent;
using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Mailer.Delivery;

/// <summary>
/// Turns a rendered mail into the message for one recipient: text before HTML, the sender's headers, the list
/// headers for one-click unsubscribe (RFC 2369, RFC 8058), Gmail's <c>Feedback-ID</c> and, on the announcement, the
/// deadline as a calendar file. It writes the message as bytes in MimeKit's own format (the tests compare it with
/// MimeKit's tree for every mailing) instead of building that tree per message, which cost most of a message's
/// composing time: what is the same on every message (sender, list and part headers, the calendar file, each
/// subject) is formatted once by MimeKit, and per message only the recipient's address, links, date, Message-Id and
/// boundaries are written around the rendered text.
/// </summary>
public sealed class MessageFactory
{
    // C0, DEL and C1: nothing of these belongs in a header.
    private static readonly char[] ControlChars =
        [.. Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c)];

    private static readonly SearchValues<char> Controls = SearchValues.Create(ControlChars);

    // Printable ASCII and the line breaks and tab of plain text.
    private static readonly SearchValues<char> SevenBitText =
        SearchValues.Create([.. Enumerable.Range(0x20, 0x5F).Select(c => (char)c), '\t', '\r', '\n']);

    // The controls that plain text has no use for (all but tab and the line breaks): text with one travels quoted-printable.
    private static readonly SearchValues<char> StrayControls = SearchValues.Create([.. ControlChars.Except(['\t', '\r', '\n'])]);

    /// <summary>The longest line SMTP carries, in octets without the CRLF (RFC 5321, 4.5.3.1.6).</summary>
    private const int MaxLineOctets = 998;

    private readonly string _domain;
    private readonly byte[] _from;
    private readonly byte[] _replyTo;
    private readonly Dictionary<string, byte[]> _listId;
    private readonly Dictionary<string, byte[]> _mailingTail;
    private readonly Dictionary<(string Subtype, ContentEncoding Encoding), byte[]> _partHeaders = [];
    private readonly ConcurrentDictionary<string, byte[]> _subjects = new(StringComparer.Ordinal);
    private readonly DeadlineCalendar _calendar;
    private readonly TimeProvider _time;
    private readonly CampaignOptions _campaign;

    public MessageFactory(IOptions<MailerOptions> mailer, IOptions<CampaignOptions> campaign, TimeProvider time)
    {
        var from = MailboxAddress.Parse(mailer.Value.From);
        _domain = from.Domain;
        MailboxAddress? replyTo = string.IsNullOrWhiteSpace(mailer.Value.ReplyTo) ? null : MailboxAddress.Parse(mailer.Value.ReplyTo);
        _from = MessageHeaders.Format(message => message.From.Add(new MailboxAddress(from.Name ?? "", from.Address)));
        _replyTo = replyTo is null ? [] : MessageHeaders.Format(message => message.ReplyTo.Add(new MailboxAddress(replyTo.Name ?? "", replyTo.Address)));
        Sender = from.Address;

        // Nothing personal: the same fields on every message of a mailing, formatted once by MimeKit.
        var senderId = string.IsNullOrEmpty(mailer.Value.FeedbackSenderId) ? FeedbackId.DefaultSenderId(_domain) : mailer.Value.FeedbackSenderId;
        _campaign = campaign.Value;
        var listId = $"<{campaign.Value.Name}.{_domain}>";
        _listId = _campaign.Mails.ToDictionary(m => m, _ => MessageHeaders.Format(message => message.Headers.Add(HeaderId.ListId, listId)));
        _mailingTail = _campaign.Mails.ToDictionary(mailing => mailing, mailing => MessageHeaders.Format(message =>
        {
            if (mailing != Mailings.Confirm)
            {
                message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            }

            message.Headers.Add("Feedback-ID", FeedbackId.For(mailing, campaign.Value.Name, mailing == Mailings.Confirm ? "optin" : "bulk", senderId));
            message.Headers.Add("X-Mailing", mailing);
            message.Headers.Add(HeaderId.MimeVersion, "1.0");
        }));
        foreach (var subtype in new[] { "plain", "html" })
        {
            foreach (var encoding in new[] { ContentEncoding.SevenBit, ContentEncoding.EightBit, ContentEncoding.QuotedPrintable })
            {
                _partHeaders[(subtype, encoding)] = MessageHeaders.PartHeader(subtype, encoding);
            }
        }

        _calendar = new DeadlineCalendar(campaign.Value, _domain, time);
        _time = time;
    }

    /// <summary>The sender's address (From): the envelope sender when no other is given.</summary>
    public string Sender { get; }

    /// <summary>The mail <paramref name="mailing"/> (see <see cref="Mailings"/>) to <paramref name="recipient"/>.</summary>
    /// <exception cref="ArgumentException">The recipient's address is not one plain mail address.</exception>
    public ComposedMail Create(string mailing, Recipient recipient, RenderedMail rendered, MailLinks links)
    {
        var email = recipient.Email;
        var mailbox = ParseRecipient(email);
        var toHeader = MessageHeaders.IsPlain(email) ? null : MessageHeaders.Format(message => message.To.Add(mailbox));
        var unsubscribe = mailing == Mailings.Confirm ? null : CheckedUrl(links.UnsubscribeUrl);
        var subject = OneLine(rendered.Subject);
        return new ComposedMail(this, mailing, mailbox, toHeader, subject == rendered.Subject ? rendered : rendered with { Subject = subject },
            unsubscribe, _time.GetUtcNow(), MimeUtils.GenerateMessageId(_domain), MessageHeaders.NewBoundary(),
            _campaign.IsLaunch(mailing) ? MessageHeaders.NewBoundary() : null);
    }

    /// <summary>
    /// Writes the message as MimeKit would for the same input: the header fields in MimeKit's order and format, text
    /// before HTML in a multipart/alternative (inside a multipart/mixed with the calendar file on the announcement).
    /// For a 7-bit channel, 8bit text is written quoted-printable, as MailKit's preparation for such a server does.
    /// Returns the length of the header block, blank line included.
    /// </summary>
    internal int Write(ComposedMail mail, MailBuffer buffer, bool eightBit)
    {
        // MimeKit's order: a new message has From, Date, Subject and Message-Id; the rest follow as they are added.
        buffer.Append(_from);
        buffer.Append("Date: "u8);
        buffer.AppendUtf8(DateUtils.FormatDate(mail.Date));
        buffer.Append("\r\n"u8);
        buffer.Append(Subject(mail.Rendered.Subject));
        buffer.Append("Message-Id: <"u8);
        buffer.AppendUtf8(mail.MessageId);
        buffer.Append(">\r\n"u8);
        buffer.Append(_replyTo);
        if (mail.ToHeader is { } to)
        {
            buffer.Append(to);
        }
        else
        {
            buffer.Append("To: "u8);
            buffer.AppendUtf8(mail.Recipient);
            buffer.Append("\r\n"u8);
        }

        buffer.Append(_listId[mail.Mailing]);
        if (mail.UnsubscribeUrl is { } unsubscribe)
        {
            buffer.Append("List-Unsubscribe: <"u8);
            buffer.AppendUtf8(unsubscribe);
            buffer.Append(">\r\n"u8);
        }

        buffer.Append(_mailingTail[mail.Mailing]);
        var withCalendar = _campaign.IsLaunch(mail.Mailing);
        var outer = withCalendar ? mail.OuterBoundary! : mail.Boundary;
        MultipartHeader(buffer, withCalendar ? "mixed" : "alternative", outer);
        buffer.Append("\r\n"u8);
        var headerLength = buffer.Length;
        if (withCalendar)
        {
            Boundary(buffer, outer);
            MultipartHeader(buffer, "alternative", mail.Boundary);
            buffer.Append("\r\n"u8);
        }

        Boundary(buffer, mail.Boundary);
        Part(buffer, "plain", mail.Rendered.Text, mail.TextEncoding, eightBit);
        Boundary(buffer, mail.Boundary);
        Part(buffer, "html", mail.Rendered.Html, mail.HtmlEncoding, eightBit);
        EndBoundary(buffer, mail.Boundary);
        if (withCalendar)
        {
            buffer.Append("\r\n"u8);
            Boundary(buffer, outer);
            buffer.Append(_calendar.PartBytes);
            buffer.Append("\r\n"u8);
            EndBoundary(buffer, outer);
        }

        return headerLength;
    }

    private byte[] Subject(string subject)
    {
        if (!_subjects.TryGetValue(subject, out var bytes))
        {
            if (_subjects.Count >= 1024)
            {
                // Subjects are per variant; the variants of past days are not needed again.
                _subjects.Clear();
            }

            bytes = _subjects[subject] = MessageHeaders.Format(message => message.Subject = subject);
        }

        return bytes;
    }

    private void Part(MailBuffer buffer, string subtype, string text, ContentEncoding encoding, bool eightBit)
    {
        if (encoding == ContentEncoding.EightBit && !eightBit)
        {
            encoding = ContentEncoding.QuotedPrintable;
        }

        buffer.Append(_partHeaders[(subtype, encoding)]);
        buffer.Append("\r\n"u8);
        if (encoding == ContentEncoding.QuotedPrintable)
        {
            MessageHeaders.AppendQuotedPrintable(buffer, text);
        }
        else
        {
            buffer.AppendUtf8Crlf(text);
            if (!text.EndsWith('\n'))
            {
                buffer.Append("\r\n"u8);
            }
        }

        buffer.Append("\r\n"u8);
    }

    private static void MultipartHeader(MailBuffer buffer, string subtype, string boundary)
    {
        buffer.Append("Content-Type: multipart/"u8);
        buffer.AppendUtf8(subtype);
        buffer.Append("; boundary=\""u8);
        buffer.AppendUtf8(boundary);
        buffer.Append("\"\r\n"u8);
    }

    private static void Boundary(MailBuffer buffer, string boundary)
    {
        buffer.Append("--"u8);
        buffer.AppendUtf8(boundary);
        buffer.Append("\r\n"u8);
    }

    private static void EndBoundary(MailBuffer buffer, string boundary)
    {
        buffer.Append("--"u8);
        buffer.AppendUtf8(boundary);
        buffer.Append("--\r\n"u8);
    }

    /// <summary>
    /// How the text travels: as it is when it is printable ASCII (7bit), as 8bit UTF-8 when it is text beyond ASCII,
    /// else quoted-printable; lines longer than SMTP carries are quoted-printable too. An 8bit part is re-encoded by
    /// MailKit as quoted-printable for a server without 8BITMIME, and by the pickup folder, so nothing 8bit reaches a
    /// 7-bit channel; where 8bit can go, the message is shorter and not encoded per message. Decided on the string:
    /// MimeKit's <c>GetBestEncoding</c> would run the encoded bytes through a filter for every message.
    /// </summary>
    internal static ContentEncoding TransferEncoding(string text)
    {
        var span = text.AsSpan();
        var encoding = span.ContainsAnyExcept(SevenBitText) ? ContentEncoding.EightBit : ContentEncoding.SevenBit;
        if (encoding == ContentEncoding.EightBit && span.ContainsAny(StrayControls))
        {
            return ContentEncoding.QuotedPrintable;
        }

        // A line that starts "From " would be mangled by an mbox on the way (">From "); MimeKit sends such text quoted-printable.
        if (span.StartsWith("From ", StringComparison.Ordinal) || span.Contains("\nFrom ", StringComparison.Ordinal))
        {
            return ContentEncoding.QuotedPrintable;
        }

        foreach (var line in span.EnumerateLines())
        {
            // A UTF-8 character takes at most 3 octets (a surrogate pair 4 for 2 chars), so shorter lines cannot be too long.
            if (line.Length > MaxLineOctets / 3 && System.Text.Encoding.UTF8.GetByteCount(line) > MaxLineOctets)
            {
                return ContentEncoding.QuotedPrintable;
            }
        }

        return encoding;
    }

    private static MailboxAddress ParseRecipient(string email)
    {
        if (email.AsSpan().ContainsAny(Controls)
            || !MailboxAddress.TryParse(email, out var mailbox)
            || mailbox.Address != email
            || !email.Contains('@'))
        {
            throw new ArgumentException("The recipient is not one plain mail address.", nameof(email));
        }

        return mailbox;
    }

    /// <summary>The text on one line: control characters (CR, LF, tab, ...) become single spaces.</summary>
    internal static string OneLine(string text)
    {
        if (!text.AsSpan().ContainsAny(Controls))
        {
            return text;
        }

        return string.Join(' ', text.Split(ControlChars, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static string CheckedUrl(string url) =>
        url.AsSpan().ContainsAny(Controls) || url.AsSpan().ContainsAny(' ', '<', '>')
            ? throw new ArgumentException("The unsubscribe URL must be one absolute URL.", nameof(url))
            : url;
}
