namespace Mailer.Storage;

/// <summary>The statements of <see cref="SubscriberStore"/>, one per purpose, in SQL that SQLite and PostgreSQL both run.</summary>
public sealed partial class SubscriberStore
{
    private const string InsertPendingSubscriber = """
        INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirm_requested_at)
        VALUES (@Campaign, @Email, @Locale, @Platforms, 'pending', @Now, @Now)
        ON CONFLICT (campaign, email) DO NOTHING
        RETURNING id
        """;

    private const string SelectIdAndStatusByEmail = "SELECT id AS Id, status AS Status, suppressed_at AS SuppressedAt FROM subscribers WHERE campaign = @Campaign AND email = @Email";

    private const string UpdatePendingChoices = """
        UPDATE subscribers SET locale = @Locale, platforms = @Platforms
        WHERE id = @Id AND status = 'pending'
        """;

    private const string RequestConfirmationIfDue = """
        UPDATE subscribers SET confirm_requested_at = @Now
        WHERE id = @Id AND status = 'pending' AND (confirm_requested_at IS NULL OR confirm_requested_at <= @DueBefore)
        """;

    private const string ReopenUnsubscribed = """
        UPDATE subscribers
        SET status = 'pending', locale = @Locale, platforms = @Platforms,
            confirmed_at = NULL, unsubscribed_at = NULL, confirm_requested_at = @Now
        WHERE id = @Id AND status = 'unsubscribed'
        """;

    // A confirmed address whose mail bounces (suppressed) that signs up again: pending, it must confirm again, which
    // proves the mailbox takes mail; confirming lifts the suppression.
    private const string ReopenSuppressed = """
        UPDATE subscribers
        SET status = 'pending', locale = @Locale, platforms = @Platforms, confirmed_at = NULL, confirm_requested_at = @Now
        WHERE id = @Id AND status = 'confirmed' AND suppressed_at IS NOT NULL
        """;

    private const string InsertConsent = """
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, client_ip, user_agent, purpose)
        VALUES (@SubscriberId, @Source, @Version, @Now, @ClientIp, @UserAgent, @Purpose)
        """;

    private const string SelectSubscriberColumns = """
        SELECT id AS Id, campaign AS Campaign, email AS Email, locale AS Locale, platforms AS Platforms, done_platforms AS DonePlatforms,
               status AS Status, created_at AS CreatedAt, confirmed_at AS ConfirmedAt, unsubscribed_at AS UnsubscribedAt,
               confirm_requested_at AS ConfirmRequestedAt, confirm_sent_at AS ConfirmSentAt, invited_at AS InvitedAt
        FROM subscribers
        """;

    private const string ConfirmPending = """
        UPDATE subscribers SET status = 'confirmed', confirmed_at = @At, suppressed_at = NULL, suppressed_reason = NULL
        WHERE id = @Id AND status = 'pending'
        """;

    private const string RecordConfirmationOnLatestOpenConsent = """
        UPDATE consents SET confirmed_at = @At, confirm_ip = @ClientIp
        WHERE id IN (SELECT MAX(id) FROM consents WHERE subscriber_id = @Id AND confirmed_at IS NULL AND withdrawn_at IS NULL GROUP BY purpose)
        """;

    // The standing list's own consent, confirmed with the signup's: from now on they hear of the next deadline.
    private const string JoinStandingListIfConsented = """
        UPDATE subscribers SET standing_list_at = @At
        WHERE id = @Id AND EXISTS (SELECT 1 FROM consents c WHERE c.subscriber_id = @Id AND c.purpose = 'standing-list' AND c.confirmed_at = @At)
        """;

    // A new campaign's invitation: everyone on the standing list (in any other campaign, not stopped), once, as a
    // pending subscription whose confirmation mail is the invitation. Their language is that of their latest subscription.
    // The caller queues the mails at once; should that fail, the confirmation sweep finds them as it finds lost ones.
    private const string InviteStandingList = """
        INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirm_requested_at, confirm_enqueued_at, invited_at)
        SELECT @Campaign, p.email, p.locale, @Platforms, 'pending', @Now, @Now, @Now, @Now
        FROM subscribers p
        WHERE p.standing_list_at IS NOT NULL AND p.suppressed_at IS NULL AND p.campaign <> @Campaign
          AND p.id = (SELECT MAX(q.id) FROM subscribers q WHERE q.email = p.email AND q.standing_list_at IS NOT NULL)
        ON CONFLICT (campaign, email) DO NOTHING
        RETURNING id
        """;

    // That a campaign's invitation went out (its moment), so a later dispatch does not invite again.
    private const string RecordInvited = "INSERT INTO campaign_state (name, value) VALUES (@Name, @Value) ON CONFLICT (name) DO NOTHING";

    private const string CountInvited = "SELECT COUNT(*) FROM campaign_state WHERE name = @Name";

    // The proof behind an invitation: the standing-list consent it rests on (its text version), confirmed by the click.
    private const string InsertInvitationConsent = """
        INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, purpose)
        SELECT @Id, 'invite', 'standing-list:' || COALESCE(
            (SELECT c.consent_text_version FROM consents c JOIN subscribers p ON p.id = c.subscriber_id
             WHERE p.email = s.email AND c.purpose = 'standing-list' AND c.withdrawn_at IS NULL ORDER BY c.id DESC LIMIT 1), '?'),
            @Now, 'campaign'
        FROM subscribers s WHERE s.id = @Id
        """;

    private const string SelectStatus = "SELECT status FROM subscribers WHERE id = @Id";

    private const string UnsubscribeSubscriber = """
        UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = @At
        WHERE id = @Id AND status <> 'unsubscribed'
        """;

    private const string WithdrawOpenConsents = """
        UPDATE consents SET withdrawn_at = @At
        WHERE subscriber_id = @Id AND withdrawn_at IS NULL
        """;

    // "Leave everything": every subscription of the address, in every campaign, and the standing list.
    private const string SubscriptionsOfSameAddress = """
        SELECT other.id FROM subscribers other JOIN subscribers s ON s.email = other.email WHERE s.id = @Id ORDER BY other.id
        """;

    private const string LeaveStandingList = "UPDATE subscribers SET standing_list_at = NULL WHERE id = @Id";

    // Unsubscribing from an invitation never accepted says "stop inviting me": the address leaves the standing list, in
    // every campaign it joined it from, and the standing-list consents are withdrawn. Its other subscriptions stay.
    private const string DeclinedInvitation = """
        SELECT other.id FROM subscribers other JOIN subscribers s ON s.email = other.email
        WHERE s.id = @Id AND s.invited_at IS NOT NULL AND s.confirmed_at IS NULL
        """;

    private const string LeaveStandingListIfInvitationDeclined =
        "UPDATE subscribers SET standing_list_at = NULL WHERE id IN (" + DeclinedInvitation + ")";

    private const string WithdrawStandingListIfInvitationDeclined =
        "UPDATE consents SET withdrawn_at = @At WHERE purpose = 'standing-list' AND withdrawn_at IS NULL AND subscriber_id IN (" + DeclinedInvitation + ")";

    private const string InsertLinkEventUnlessUnsubscribed = """
        INSERT INTO link_events (subscriber_id, kind, platform, at, client_ip, user_agent)
        SELECT id, @Kind, @Platform, @At, @ClientIp, @UserAgent FROM subscribers WHERE id = @Id AND status <> 'unsubscribed'
        """;

    private const string SelectDonePlatformsUnlessUnsubscribed = """
        SELECT done_platforms FROM subscribers WHERE id = @Id AND status <> 'unsubscribed'
        """;

    private const string UpdateDonePlatformsIfUnchanged = """
        UPDATE subscribers SET done_platforms = @Done
        WHERE id = @Id AND done_platforms = @Before
        """;

    // A confirmation mail is due while the subscriber is pending, the last request is newer than the last mail, and
    // the request's link would still hold (requested after @RequestedAfter = now - Subscribers:ConfirmWithin).
    private const string ConfirmationDue = """
        status = 'pending' AND confirm_requested_at > @RequestedAfter
          AND (confirm_sent_at IS NULL OR confirm_sent_at < confirm_requested_at)
        """;

    private const string ConfirmationNotClaimed = "(confirm_claimed_until IS NULL OR confirm_claimed_until <= @Now)";

    // Due, unclaimed, and neither the signup (confirm_requested_at) nor the sweep (confirm_enqueued_at) queued a job lately.
    private const string ConfirmationLost = $"""
        {ConfirmationDue} AND {ConfirmationNotClaimed}
          AND confirm_requested_at < @EnqueuedBefore
          AND (confirm_enqueued_at IS NULL OR confirm_enqueued_at < @EnqueuedBefore)
        """;

    private const string ClaimConfirmation = $"""
        UPDATE subscribers SET confirm_claimed_until = @Until
        WHERE id = @Id AND {ConfirmationDue} AND {ConfirmationNotClaimed}
        RETURNING confirm_requested_at
        """;

    private const string MarkConfirmationSent = """
        UPDATE subscribers
        SET confirm_sent_at = @SentAt,
            confirm_claimed_until = CASE WHEN confirm_claimed_until = @Until THEN NULL ELSE confirm_claimed_until END
        WHERE id = @Id AND confirm_requested_at = @RequestedAt
        """;

    private const string ReleaseConfirmationClaim = """
        UPDATE subscribers SET confirm_claimed_until = NULL
        WHERE id = @Id AND confirm_claimed_until = @Until
        """;

    // The statement marks what it takes, so two sweeps (two instances) never take one request at the same time.
    private const string TakeLostConfirmations = $"""
        UPDATE subscribers SET confirm_enqueued_at = @Now
        WHERE id IN (SELECT id FROM subscribers WHERE {ConfirmationLost} ORDER BY confirm_requested_at, id LIMIT @Max)
          AND {ConfirmationLost}
        RETURNING id, confirm_requested_at
        """;

    private const string SelectConsentsOfSubscriber = """
        SELECT id AS Id, subscriber_id AS SubscriberId, source AS Source, consent_text_version AS ConsentTextVersion,
               given_at AS GivenAt, client_ip AS ClientIp, user_agent AS UserAgent, confirmed_at AS ConfirmedAt,
               confirm_ip AS ConfirmIp, withdrawn_at AS WithdrawnAt
        FROM consents WHERE subscriber_id = @Id ORDER BY id
        """;

    private const string SelectLinkEventsOfSubscriber = """
        SELECT id AS Id, subscriber_id AS SubscriberId, kind AS Kind, platform AS Platform, at AS At
        FROM link_events WHERE subscriber_id = @Id ORDER BY id
        """;
}
