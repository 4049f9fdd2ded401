using Mailer.Delivery;
using Mailer.Rendering;

namespace Mailer.Subscribers;

/// <summary>
/// Sends the confirmation mail of one signup, outside the signup request. Safe to run twice: it sends only
/// while the subscriber is pending and a request is newer than the last mail, and records the mail as sent
/// for exactly the request it served. A transient failure leaves the request due; the campaign's sweep
/// (<see cref="ISubscriberStore.FindUnsentConfirmationsAsync"/>) enqueues it again.
/// </summary>
public sealed class ConfirmMailJob(
    ISubscriberStore store,
    IConfirmationMailer mailer,
    TimeProvider time,
    ILogger<ConfirmMailJob> logger)
{
    public async Task SendAsync(long subscriberId, CancellationToken cancellationToken)
    {
        var subscriber = await store.FindAsync(subscriberId, cancellationToken);
        if (subscriber is not { AwaitsConfirmationMail: true, ConfirmRequestedAt: { } requestedAt })
        {
            SubscribersLog.ConfirmationMailNotDue(logger, subscriberId);
            return;
        }

        var recipient = new Recipient(subscriber.Id, subscriber.Email, subscriber.Locale, subscriber.Platforms);
        var result = await mailer.SendConfirmationAsync(recipient, cancellationToken);
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                await store.MarkConfirmationSentAsync(subscriberId, requestedAt, time.GetUtcNow(), cancellationToken);
                SubscribersLog.ConfirmationMailSent(logger, subscriberId);
                break;
            case SendOutcome.Permanent:
                // The server refused the address for good; asking again would be refused again.
                await store.MarkConfirmationSentAsync(subscriberId, requestedAt, time.GetUtcNow(), cancellationToken);
                SubscribersLog.ConfirmationMailRejected(logger, subscriberId);
                break;
            default:
                SubscribersLog.ConfirmationMailDeferred(logger, subscriberId);
                break;
        }
    }
}
