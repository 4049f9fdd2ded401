namespace Mailer.Subscribers;

/// <summary>
/// The subscribers, their consents and their link events. One implementation (<c>Storage/SubscriberStore</c>)
/// serves SQLite and PostgreSQL; every change is one transaction, committed before the method returns.
/// Times are the caller's (from its <see cref="TimeProvider"/>), so tests and jobs agree on "now".
/// </summary>
public interface ISubscriberStore
{
    /// <summary>
    /// Records a signup: a new address becomes pending; a pending one takes the new choices; an unsubscribed
    /// one becomes pending again; a confirmed one stays as it is. Every signup but the confirmed one adds a
    /// consent row. A confirmation mail is requested for new and returning addresses, and for a pending one
    /// only when the last request is at least <paramref name="resendAfter"/> old.
    /// </summary>
    Task<SignupResult> SignUpAsync(Signup signup, DateTimeOffset now, TimeSpan resendAfter, CancellationToken cancellationToken);

    Task<Subscriber?> FindAsync(long subscriberId, CancellationToken cancellationToken);

    /// <summary>Finds an address given in its normalized form (<see cref="EmailAddress.Normalize"/>).</summary>
    /// <summary>The subscriber of <paramref name="campaign"/> (default: the default campaign) with this address.</summary>
    /// <summary>
    /// Invites the standing list to <paramref name="campaign"/>, once: a pending subscription for each person on it who is
    /// not in the campaign yet, whose confirmation mail is the invitation, marked as queued now. Returns the new subscriptions, for the caller to queue their mails.
    /// </summary>
    Task<IReadOnlyList<long>> InviteStandingListAsync(string campaign, IReadOnlyCollection<string> platforms, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Whether the standing list was invited to <paramref name="campaign"/> already.</summary>
    Task<bool> InvitedAsync(string campaign, CancellationToken cancellationToken);

    /// <summary>
    /// "Leave everything": unsubscribes every subscription of the subscriber's address, in every campaign, withdrawing
    /// their consents; returns how many were still subscribed.
    /// </summary>
    Task<int> UnsubscribeEverywhereAsync(long subscriberId, DateTimeOffset at, CancellationToken cancellationToken);

    Task<Subscriber?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken, string? campaign = null);

    /// <summary>Confirms a pending subscriber and records the click (time, client address) on the latest open consent.</summary>
    Task<ConfirmOutcome> ConfirmAsync(long subscriberId, DateTimeOffset at, string? clientIp, CancellationToken cancellationToken);

    /// <summary>Unsubscribes and marks every consent withdrawn. False when already unsubscribed or unknown.</summary>
    Task<bool> UnsubscribeAsync(long subscriberId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records a click-through to a platform's form, with the client it came from (kept for <c>Subscribers:KeepLinkEventsFor</c>).
    /// False (nothing stored) for unknown or unsubscribed subscribers.
    /// </summary>
    Task<bool> RecordClickAsync(long subscriberId, string platform, DateTimeOffset at, LinkClient client, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="platform"/> to the done platforms and records the event. False when already done, unknown or unsubscribed.</summary>
    Task<bool> MarkDoneAsync(long subscriberId, string platform, DateTimeOffset at, LinkClient client, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the subscriber's due confirmation mail for one job until <paramref name="now"/> + <paramref name="lease"/>,
    /// in one conditional statement: of two jobs for one subscriber only one gets it. Null when no mail is due (confirmed,
    /// gone, already sent), when the request was made at or before <paramref name="requestedAfter"/> (its link would have
    /// expired), or while another job's claim holds. A claim whose lease ran out (its job died) is taken again.
    /// </summary>
    Task<ConfirmationClaim?> ClaimConfirmationAsync(long subscriberId, DateTimeOffset now, TimeSpan lease, DateTimeOffset requestedAfter,
        CancellationToken cancellationToken);

    /// <summary>
    /// Records that the claimed mail went out and ends the claim. False when a newer signup has asked again in the
    /// meantime: that one still awaits its mail.
    /// </summary>
    Task<bool> MarkConfirmationSentAsync(ConfirmationClaim claim, DateTimeOffset sentAt, CancellationToken cancellationToken);

    /// <summary>Ends a claim without a mail (a transient failure): the request stays due for the sweep.</summary>
    Task ReleaseConfirmationClaimAsync(ConfirmationClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> lost confirmation requests, oldest first, and marks them queued at
    /// <paramref name="now"/>: due, not claimed, their link still holding (requested after <paramref name="requestedAfter"/>),
    /// and no job queued for them since <paramref name="enqueuedBefore"/>, neither by the signup nor by an earlier sweep.
    /// </summary>
    Task<IReadOnlyList<long>> TakeLostConfirmationsAsync(DateTimeOffset now, DateTimeOffset enqueuedBefore, DateTimeOffset requestedAfter, int max,
        CancellationToken cancellationToken);

    /// <summary>Every consent of the subscriber, oldest first: the proof of consent and of its withdrawal.</summary>
    Task<IReadOnlyList<Consent>> ConsentsAsync(long subscriberId, CancellationToken cancellationToken);

    /// <summary>The subscriber's clicks and done marks, oldest first.</summary>
    Task<IReadOnlyList<LinkEvent>> LinkEventsAsync(long subscriberId, CancellationToken cancellationToken);
}

/// <summary>A job's hold on one subscriber's confirmation mail: the request it serves and the end of its lease.</summary>
public sealed record ConfirmationClaim(long SubscriberId, DateTimeOffset RequestedAt, DateTimeOffset Until);
