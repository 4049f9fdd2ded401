using Hangfire.States;
using Mailer.Bounces;
using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Signups;

/// <summary>
/// Sends the confirmation mails of a few signups, outside their requests, over one connection. Safe to run twice, and
/// twice at once: before each mail it claims the subscriber's due request in the store (one conditional statement, as
/// the ledger claims its rows), so only one job sends it; it records the mail as sent for exactly the request it
/// served, right after the transport took it. No mail goes out for a request whose link would already have expired
/// (<c>Subscribers:ConfirmWithin</c>). A transient failure gives the claim back and leaves the request due; the
/// <see cref="ConfirmationSweep"/> queues it again, until its link would expire.
/// </summary>
public sealed class ConfirmMailJob(
    ISubscriberStore store,
    IConfirmationMailer mailer,
    BounceIntake bounces,
    IOptions<SubscribersOptions> options,
    TimeProvider time,
    ILogger<ConfirmMailJob> logger)
{
    /// <summary>Transient failures in a row after which the rest of the job is left to the sweep: the server is down.</summary>
    internal const int TransientFailuresToStop = 3;

    /// <summary>
    /// How long a claim holds: far longer than one message takes (each SMTP command has <c>Smtp:Timeout</c>, 30 s by
    /// default). The claim of a job that died is taken again after it, by the next job the sweep queues.
    /// </summary>
    internal static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(5);

    /// <summary>The Hangfire queue these jobs wait in (Hangfire's default; a <c>[Queue]</c> on the methods would name this constant).</summary>
    internal const string Queue = EnqueuedState.DefaultQueue;

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
                SignupLog.ConfirmationJobStopped(logger, transientInARow);
                return;
            }
        }
    }

    /// <summary>The mail of one subscriber if it is due and this job got the claim, recorded as sent once the server took it; null when not.</summary>
    private async Task<SendOutcome?> SendOneAsync(IConfirmationSender sender, long subscriberId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claim = await store.ClaimConfirmationAsync(subscriberId, now, ClaimLease, now - options.Value.ConfirmWithin, cancellationToken);
        var subscriber = claim is null ? null : await store.FindAsync(subscriberId, cancellationToken);
        if (claim is null || subscriber is null)
        {
            SignupLog.ConfirmationMailNotDue(logger, subscriberId);
            return null;
        }

        SendResult result;
        try
        {
            var recipient = new Recipient(subscriber.Id, subscriber.Email, subscriber.Locale, subscriber.Platforms) { Campaign = subscriber.Campaign, ConfirmationMail = subscriber.InvitedAt is null ? Mailings.Confirm : Mailings.Invite };
            result = await sender.SendConfirmationAsync(recipient, cancellationToken);
        }
        catch
        {
            // Cancelled or a fault of our own: the request is not lost, the next job may take it at once.
            await store.ReleaseConfirmationClaimAsync(claim, CancellationToken.None);
            throw;
        }

        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                await store.MarkConfirmationSentAsync(claim, time.GetUtcNow(), cancellationToken);
                SignupLog.ConfirmationMailSent(logger, subscriberId);
                break;
            case SendOutcome.Permanent:
                // The server refused the address for good; asking again would be refused again. 550 5.1.1 counts as a hard bounce.
                await store.MarkConfirmationSentAsync(claim, time.GetUtcNow(), cancellationToken);
                SignupLog.ConfirmationMailRejected(logger, subscriberId);
                await bounces.RecordConfirmationRefusalAsync(subscriberId,
                    claim.RequestedAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), result.Reply, cancellationToken);
                break;
            default:
                await store.ReleaseConfirmationClaimAsync(claim, cancellationToken);
                SignupLog.ConfirmationMailDeferred(logger, subscriberId);
                break;
        }

        return result.Outcome;
    }
}
