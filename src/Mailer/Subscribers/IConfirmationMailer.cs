using Mailer.Delivery;
using Mailer.Rendering;

namespace Mailer.Subscribers;

/// <summary>Composes the <c>confirm</c> mail for one recipient (with its confirmation link) and hands it to the transport.</summary>
public interface IConfirmationMailer
{
    /// <summary>Never throws for what the server answers: the result says accepted, permanent or transient.</summary>
    Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken);
}

/// <summary>
/// The confirmation mail through the campaign's own pipeline: <see cref="MailComposer"/> renders the
/// <c>confirm</c> templates with the subscriber's links, the configured transport (SMTP or pickup folder)
/// sends it on a connection of its own; confirmations are few and must not wait for a campaign batch.
/// </summary>
public sealed class TransportConfirmationMailer(MailComposer composer, IMailTransport transport, TimeProvider time) : IConfirmationMailer
{
    public async Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken)
    {
        MimeKit.MimeMessage message;
        try
        {
            message = composer.Compose(Mailings.Confirm, recipient, time.GetUtcNow());
        }
        catch (ArgumentException e)
        {
            // The store only holds checked addresses; one that MimeKit still refuses is never going to work.
            return SendResult.Permanent("not sent: " + e.GetType().Name);
        }

        await using var connection = await transport.OpenAsync(cancellationToken);
        return await connection.SendAsync(message, cancellationToken);
    }
}
