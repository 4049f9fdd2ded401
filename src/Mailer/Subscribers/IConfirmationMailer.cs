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
/// Stands in until the delivery side registers the real mailer: every confirmation stays due (transient), so
/// nothing is lost; the sweep for unsent confirmations sends them once a real mailer is there.
/// </summary>
internal sealed class MissingConfirmationMailer(ILogger<MissingConfirmationMailer> logger) : IConfirmationMailer
{
    public Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken)
    {
        SubscribersLog.NoConfirmationMailer(logger, recipient.SubscriberId);
        return Task.FromResult(SendResult.Transient("No IConfirmationMailer is registered."));
    }
}
