using Mailer.Links;
using Mailer.Rendering;
using Mailer.Subscribers;

namespace Mailer.Delivery;

/// <summary>One personalized message: the links for this subscriber, the rendered templates, the message around them, written as bytes when it goes out.</summary>
public sealed class MailComposer(TemplateRenderer renderer, MessageFactory factory, LinkBuilder links)
{
    public ComposedMail Compose(string mailing, Recipient recipient, DateTimeOffset now)
    {
        var mailLinks = links.For(recipient, withConfirm: Mailings.AsksToConfirm(mailing));
        var rendered = renderer.Render(mailing, recipient, mailLinks, now);
        return factory.Create(mailing, recipient, rendered, mailLinks);
    }
}
