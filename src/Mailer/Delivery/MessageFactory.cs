using System.Buffers;
using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Mailer.Delivery;

/// <summary>
/// Turns a rendered mail into the MIME message for one recipient: text before HTML, the sender's headers,
/// the list headers for one-click unsubscribe (RFC 2369, RFC 8058), Gmail's <c>Feedback-ID</c> and, on the
/// announcement, the deadline as a calendar file. The configuration is read once; per message only the recipient's parts are built.
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

    private readonly string _fromName;
    private readonly string _fromAddress;
    private readonly string? _replyToName;
    private readonly string? _replyToAddress;
    private readonly string _domain;
    private readonly string _listId;
    private readonly Dictionary<string, string> _feedbackIds;
    private readonly DeadlineCalendar _calendar;
    private readonly CampaignOptions _campaign;
    private readonly TimeProvider _time;

    public MessageFactory(IOptions<MailerOptions> mailer, IOptions<CampaignOptions> campaign, TimeProvider time)
    {
        var from = MailboxAddress.Parse(mailer.Value.From);
        (_fromName, _fromAddress, _domain) = (from.Name ?? "", from.Address, from.Domain);
        if (!string.IsNullOrWhiteSpace(mailer.Value.ReplyTo))
        {
            var replyTo = MailboxAddress.Parse(mailer.Value.ReplyTo);
            (_replyToName, _replyToAddress) = (replyTo.Name ?? "", replyTo.Address);
        }

        _listId = $"<{campaign.Value.Name}.{_domain}>";
        // Nothing personal: the same four fields on every message of a mailing.
        var senderId = string.IsNullOrEmpty(mailer.Value.FeedbackSenderId) ? FeedbackId.DefaultSenderId(_domain) : mailer.Value.FeedbackSenderId;
        _campaign = campaign.Value;
        _feedbackIds = _campaign.Mails.ToDictionary(
            mailing => mailing,
            mailing => FeedbackId.For(mailing, campaign.Value.Name, mailing == Mailings.Confirm ? "optin" : "bulk", senderId));
        _calendar = new DeadlineCalendar(campaign.Value, _domain, time);
        _time = time;
    }

    /// <summary>The mail <paramref name="mailing"/> (see <see cref="Mailings"/>) to <paramref name="recipient"/>.</summary>
    /// <exception cref="ArgumentException">The recipient's address is not one plain mail address.</exception>
    public MimeMessage Create(string mailing, Recipient recipient, RenderedMail rendered, MailLinks links)
    {
        var message = new MimeMessage();
        // A new MailboxAddress per message, from the parsed parts: an address list subscribes to its members'
        // change events, so one shared instance would hold on to every message ever built.
        message.From.Add(new MailboxAddress(_fromName, _fromAddress));
        if (_replyToAddress is not null)
        {
            message.ReplyTo.Add(new MailboxAddress(_replyToName, _replyToAddress));
        }

        message.To.Add(ParseRecipient(recipient.Email));
        message.Subject = OneLine(rendered.Subject);
        message.Date = _time.GetUtcNow();
        message.MessageId = MimeUtils.GenerateMessageId(_domain);
        message.Headers.Add(HeaderId.ListId, _listId);
        if (mailing != Mailings.Confirm)
        {
            // Gmail and Yahoo require one-click unsubscribe on bulk mail; the opt-in request is not bulk mail.
            message.Headers.Add(HeaderId.ListUnsubscribe, $"<{CheckedUrl(links.UnsubscribeUrl)}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }

        message.Headers.Add("Feedback-ID", _feedbackIds[mailing]);
        message.Headers.Add("X-Mailing", mailing);

        var body = new MultipartAlternative { TextPart("plain", rendered.Text), TextPart("html", rendered.Html) };
        message.Body = _campaign.IsLaunch(mailing) ? new Multipart("mixed") { body, _calendar.CreatePart() } : body;
        return message;
    }

    private static TextPart TextPart(string subtype, string text)
    {
        var part = new TextPart(subtype);
        part.SetText(System.Text.Encoding.UTF8, text);
        part.ContentTransferEncoding = TransferEncoding(text);
        return part;
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
