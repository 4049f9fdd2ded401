using Mailer.Bounces;
using Mailer.Delivery;
using Mailer.Rendering;

namespace Mailer.Signups;

/// <summary>Composes <c>confirm</c> mails (each with its confirmation link) and hands them to the transport.</summary>
public interface IConfirmationMailer
{
    /// <summary>One sender for the confirmations of one job: they go out over one connection.</summary>
    Task<IConfirmationSender> OpenAsync(CancellationToken cancellationToken);
}

public interface IConfirmationSender : IAsyncDisposable
{
    /// <summary>Never throws for what the server answers: the result says accepted, permanent or transient.</summary>
    Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken);
}

/// <summary>
/// The confirmation mail through the campaign's own pipeline: <see cref="MailComposer"/> renders the
/// <c>confirm</c> templates with the subscriber's links, the configured transport (SMTP or pickup folder)
/// sends it on a connection of its own; confirmations must not wait for a campaign batch.
/// </summary>
public sealed class TransportConfirmationMailer(CampaignMails mails, MailComposer composer, IMailTransport transport, ReturnPath returnPath, TimeProvider time) : IConfirmationMailer
{
    public async Task<IConfirmationSender> OpenAsync(CancellationToken cancellationToken) =>
        new Sender(mails, composer, await transport.OpenAsync(cancellationToken), returnPath, time);

    private sealed class Sender(CampaignMails mails, MailComposer composer, IMailConnection connection, ReturnPath returnPath, TimeProvider time) : IConfirmationSender
    {
        public async Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken)
        {
            ComposedMail message;
            try
            {
                message = (recipient.Campaign is { } campaign ? mails.For(campaign) : composer).Compose(recipient.ConfirmationMail, recipient, time.GetUtcNow());
            }
            catch (ArgumentException e)
            {
                // The store only holds checked addresses; one that MimeKit still refuses is never going to work.
                return SendResult.Permanent("not sent: " + e.GetType().Name);
            }

            return await connection.SendAsync(message, returnPath.ForConfirmation(recipient.SubscriberId), cancellationToken);
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
