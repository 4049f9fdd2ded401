using Mailer.Delivery;
using Mailer.Rendering;

namespace Mailer.Subscribers;

/// <summary>
/// Sends the confirmation mails of a few signups, outside their requests, over one connection. Safe to run twice:
/// it sends to a subscriber only while they are pending and a request is newer than the last mail, and records
/// the mail as sent for exactly the request it served, right after the transport took it. A transient failure
/// leaves the request due; the campaign's sweep (<see cref="ISubscriberStore.FindUnsentConfirmationsAsync"/>)
/// enqueues it again.
/// </summary>
public sealed class ConfirmMailJob(
    ISubscriberStore store,
    IConfirmationMailer mailer,
    TimeProvider time,
    ILogger<ConfirmMailJob> logger)
{
    /// <summary>Transient failures in a row after which the rest of the job is left to the sweep: the server is down.</summary>
    internal const int TransientFailuresToStop = 3;

    /// <summary>The job of one signup (also what jobs queued by an earlier version call).</summary>
    public Task SendAsync(long subscriberId, CancellationToken cancellationToken) =>
        SendAsync([subscriberId], cancellationToken);

    public async Task SendAsync(long[] subscriberIds, CancellationToken cancellationToken)
    {
        // Opening connects nothing yet: the SMTP connection connects on its first message, if any is due.
        await using var sender = await mailer.OpenAsync(cancellationToken);
        var transientInARow = 0;
        foreach (var subscriberId in subscriberIds)
        {
            var outcome = await SendOneAsync(sender, subscriberId, cancellationToken);
            transientInARow = outcome == SendOutcome.Transient ? transientInARow + 1 : 0;
            if (transientInARow == TransientFailuresToStop)
            {
                SubscribersLog.ConfirmationJobStopped(logger, transientInARow);
                return;
            }
        }
    }

    /// <summary>The mail of one subscriber if it is due, recorded as sent once the server took it; null when not due.</summary>
    private async Task<SendOutcome?> SendOneAsync(IConfirmationSender sender, long subscriberId, CancellationToken cancellationToken)
    {
        var subscriber = await store.FindAsync(subscriberId, cancellationToken);
        if (subscriber is not { AwaitsConfirmationMail: true, ConfirmRequestedAt: { } requestedAt })
        {
            SubscribersLog.ConfirmationMailNotDue(logger, subscriberId);
            return null;
        }

        var recipient = new Recipient(subscriber.Id, subscriber.Email, subscriber.Locale, subscriber.Platforms);
        var result = await sender.SendConfirmationAsync(recipient, cancellationToken);
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

        return result.Outcome;
    }
}
