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
    Task<Subscriber?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken);

    /// <summary>Confirms a pending subscriber and records the click (time, client address) on the latest open consent.</summary>
    Task<ConfirmOutcome> ConfirmAsync(long subscriberId, DateTimeOffset at, string? clientIp, CancellationToken cancellationToken);

    /// <summary>Unsubscribes and marks every consent withdrawn. False when already unsubscribed or unknown.</summary>
    Task<bool> UnsubscribeAsync(long subscriberId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records a click-through to a platform's form. False (nothing stored) for unknown or unsubscribed subscribers.</summary>
    Task<bool> RecordClickAsync(long subscriberId, string platform, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="platform"/> to the done platforms and records the event. False when already done, unknown or unsubscribed.</summary>
    Task<bool> MarkDoneAsync(long subscriberId, string platform, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the confirmation mail asked for at <paramref name="requestedAt"/> went out. False when a newer
    /// signup has asked again in the meantime: that one still awaits its mail.
    /// </summary>
    Task<bool> MarkConfirmationSentAsync(long subscriberId, DateTimeOffset requestedAt, DateTimeOffset sentAt, CancellationToken cancellationToken);

    /// <summary>
    /// Pending subscribers whose confirmation mail was asked for before <paramref name="olderThan"/> and has not
    /// gone out (the job was lost or failed transiently), oldest first.
    /// </summary>
    Task<IReadOnlyList<long>> FindUnsentConfirmationsAsync(DateTimeOffset olderThan, int max, CancellationToken cancellationToken);

    /// <summary>Every consent of the subscriber, oldest first: the proof of consent and of its withdrawal.</summary>
    Task<IReadOnlyList<Consent>> ConsentsAsync(long subscriberId, CancellationToken cancellationToken);

    /// <summary>The subscriber's clicks and done marks, oldest first.</summary>
    Task<IReadOnlyList<LinkEvent>> LinkEventsAsync(long subscriberId, CancellationToken cancellationToken);
}
