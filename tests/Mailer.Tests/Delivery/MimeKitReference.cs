using Mailer.Campaigns;
using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Rendering;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>
/// The message as MimeKit's own tree builds it (the way Mailer composed messages before it wrote them as bytes), with
/// what is random or timed (Date, Message-Id, the boundaries) pinned to those of a <see cref="ComposedMail"/>, and written
/// as MailKit writes a message for a server with or without 8BITMIME: the oracle the written bytes are compared with.
/// </summary>
internal static class MimeKitReference
{
    public static byte[] Write(ComposedMail mail, MailerOptions mailer, CampaignOptions campaign, TimeProvider time, MailLinks links, bool eightBit)
    {
        var from = MailboxAddress.Parse(mailer.From);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(from.Name ?? "", from.Address));
        if (!string.IsNullOrWhiteSpace(mailer.ReplyTo))
        {
            var replyTo = MailboxAddress.Parse(mailer.ReplyTo);
            message.ReplyTo.Add(new MailboxAddress(replyTo.Name ?? "", replyTo.Address));
        }

        message.To.Add(MailboxAddress.Parse(mail.Recipient));
        message.Subject = MessageFactory.OneLine(mail.Rendered.Subject);
        message.Date = mail.Date;
        message.MessageId = mail.MessageId;
        message.Headers.Add(HeaderId.ListId, $"<{campaign.Name}.{from.Domain}>");
        if (mail.Mailing != Mailings.Confirm)
        {
            message.Headers.Add(HeaderId.ListUnsubscribe, $"<{links.UnsubscribeUrl}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }

        var senderId = string.IsNullOrEmpty(mailer.FeedbackSenderId) ? FeedbackId.DefaultSenderId(from.Domain) : mailer.FeedbackSenderId;
        message.Headers.Add("Feedback-ID", FeedbackId.For(mail.Mailing, campaign.Name, mail.Mailing == Mailings.Confirm ? "optin" : "bulk", senderId));
        message.Headers.Add("X-Mailing", mail.Mailing);

        var body = new MultipartAlternative { Part("plain", mail.Rendered.Text), Part("html", mail.Rendered.Html) };
        body.Boundary = mail.Boundary;
        if (mail.Mailing == Mailings.Announcement)
        {
            var mixed = new Multipart("mixed") { body, new DeadlineCalendar(campaign, from.Domain, time).CreatePart() };
            mixed.Boundary = mail.OuterBoundary!;
            message.Body = mixed;
        }
        else
        {
            message.Body = body;
        }

        // What MailKit's SmtpClient does before it writes a message out.
        message.Prepare(eightBit ? EncodingConstraint.EightBit : EncodingConstraint.SevenBit, 998);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.EnsureNewLine = true;
        format.International = false;
        using var stream = new MemoryStream();
        message.WriteTo(format, stream);
        return stream.ToArray();
    }

    private static TextPart Part(string subtype, string text)
    {
        var part = new TextPart(subtype);
        part.SetText(System.Text.Encoding.UTF8, text);
        part.ContentTransferEncoding = MessageFactory.TransferEncoding(text);
        return part;
    }
}
