using Mailer.Rendering;
using Mailer.Subscribers;
using MimeKit;

namespace Mailer.Delivery;

/// <summary>One personalized message: the links for this subscriber, the rendered templates, the MIME message around them.</summary>
public sealed class MailComposer(TemplateRenderer renderer, MessageFactory factory, LinkBuilder links)
{
    public MimeMessage Compose(string mailing, Recipient recipient, DateTimeOffset now)
    {
        var mailLinks = links.For(recipient, withConfirm: mailing is Mailings.Confirm or Mailings.Invite);
        var rendered = renderer.Render(mailing, recipient, mailLinks, now);
        return factory.Create(mailing, recipient, rendered, mailLinks);
    }
}
