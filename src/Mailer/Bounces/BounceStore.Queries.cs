namespace Mailer.Bounces;

/// <summary>The statements of <see cref="BounceStore"/>, one per purpose, in SQL that SQLite and PostgreSQL both run.</summary>
public sealed partial class BounceStore
{
    private const string SubscriberOfDelivery = "SELECT subscriber_id FROM deliveries WHERE id = @Id";

    private const string SubscriberExists = "SELECT id FROM subscribers WHERE id = @Id";

    private const string InsertEvent = """
        INSERT INTO bounce_events (subscriber_id, delivery_id, kind, source, status, diagnostic, received_at, report_key)
        VALUES (@SubscriberId, @DeliveryId, @Kind, @Source, @Status, @Diagnostic, @At, @ReportKey)
        ON CONFLICT (report_key) DO NOTHING
        RETURNING id
        """;

    // Soft bounces "in a row": the address's last @Limit messages sent all came back soft.
    private const string LastSentAllSoftBounced = """
        SELECT COUNT(*) FROM (
            SELECT id FROM deliveries WHERE subscriber_id = @SubscriberId AND status = 'sent' ORDER BY sent_at DESC, id DESC LIMIT @Limit
        ) recent
        WHERE (SELECT 1 FROM bounce_events b WHERE b.delivery_id = recent.id AND b.kind = 'soft' LIMIT 1) IS NOT NULL
        """;

    private const string SuppressSubscriber = """
        UPDATE subscribers SET suppressed_at = @At, suppressed_reason = @Reason
        WHERE id = @SubscriberId AND suppressed_at IS NULL
        """;

    private const string UnsubscribeOnComplaint = """
        UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = @At
        WHERE id = @SubscriberId AND status <> 'unsubscribed'
        """;

    private const string WithdrawConsentsWithReason = """
        UPDATE consents SET withdrawn_at = @At, withdrawn_reason = @Reason
        WHERE subscriber_id = @SubscriberId AND withdrawn_at IS NULL
        """;

    private const string SelectEventsOfSubscriber = """
        SELECT b.id AS Id, b.delivery_id AS DeliveryId, d.mailing AS Mailing, b.kind AS Kind, b.source AS Source, b.status AS Status,
               b.diagnostic AS Diagnostic, b.received_at AS ReceivedAt
        FROM bounce_events b LEFT JOIN deliveries d ON d.id = b.delivery_id
        WHERE b.subscriber_id = @SubscriberId ORDER BY b.received_at, b.id
        """;

    private const string SelectSuppression = "SELECT suppressed_at AS SuppressedAt, suppressed_reason AS SuppressedReason FROM subscribers WHERE id = @SubscriberId";

    // Per mailing: messages sent, and the distinct addresses that bounced hard or complained about one of its messages.
    private const string CountsPerMailing = """
        SELECT d.mailing AS Mailing,
               SUM(CASE WHEN d.status = 'sent' OR (d.status = 'failed' AND d.attempts > 0) THEN 1 ELSE 0 END) AS Attempted,
               SUM(CASE WHEN (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'hard' LIMIT 1) IS NOT NULL THEN 1 ELSE 0 END) AS Hard,
               SUM(CASE WHEN (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'soft' LIMIT 1) IS NOT NULL THEN 1 ELSE 0 END) AS Soft,
               SUM(CASE WHEN (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'complaint' LIMIT 1) IS NOT NULL THEN 1 ELSE 0 END) AS Complaints,
               SUM(CASE WHEN (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'policy' LIMIT 1) IS NOT NULL THEN 1 ELSE 0 END) AS Policy,
               SUM(CASE WHEN (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'autoreply' LIMIT 1) IS NOT NULL THEN 1 ELSE 0 END) AS AutoReplies
        FROM deliveries d GROUP BY d.mailing
        """;
}
