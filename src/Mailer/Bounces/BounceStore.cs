using System.Data.Common;
using Dapper;
using Mailer.Storage;

namespace Mailer.Bounces;

/// <summary>What recording one report did.</summary>
public enum BounceOutcome
{
    /// <summary>This report was recorded before: nothing changed.</summary>
    Duplicate,

    /// <summary>The tag names a row or subscriber that is gone (erased): nothing recorded.</summary>
    Unknown,

    /// <summary>Recorded; the address keeps getting mail (a first soft bounce, a policy refusal, an auto-reply).</summary>
    Recorded,

    /// <summary>Recorded, and the address gets no more mail.</summary>
    Suppressed,

    /// <summary>Recorded as a complaint: unsubscribed, consent withdrawn.</summary>
    Unsubscribed,
}

/// <summary>One report of a subscriber, as the timeline and the export show it.</summary>
public sealed class BounceRecord
{
    public long Id { get; init; }

    public long? DeliveryId { get; init; }

    public string? Mailing { get; init; }

    public string Kind { get; init; } = "";

    public string Source { get; init; } = "";

    public string? Status { get; init; }

    public string? Diagnostic { get; init; }

    public long ReceivedAt { get; init; }
}

/// <summary>One mailing's messages tried and how many of them came back, by kind.</summary>
public sealed class MailingBounceCounts
{
    public string Mailing { get; init; } = "";

    public long Attempted { get; init; }

    public long Hard { get; init; }

    public long Soft { get; init; }

    public long Complaints { get; init; }

    public long Policy { get; init; }

    public long AutoReplies { get; init; }
}

/// <summary>
/// The reports that came back and what they do, each in one transaction: the report recorded once (its key is unique),
/// then the action — a hard bounce, or <c>Bounces:SoftLimit</c> soft ones in a row, stops all mail to the address
/// (checked at send time, as an unsubscribe is); a complaint unsubscribes and withdraws every consent with the reason.
/// </summary>
public sealed partial class BounceStore(Database database)
{
    public async Task<BounceOutcome> RecordAsync(BounceTag tag, BounceReport report, string reportKey, DateTimeOffset at, int softLimit,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var deliveryId = tag.Kind == BounceTagKind.Delivery ? tag.Id : (long?)null;
        var subscriberId = await connection.ExecuteScalarAsync<long?>(Command(
            tag.Kind == BounceTagKind.Delivery ? SubscriberOfDelivery : SubscriberExists, new { tag.Id }, transaction, cancellationToken));
        if (subscriberId is not { } subscriber)
        {
            return BounceOutcome.Unknown;
        }

        var parameters = new
        {
            SubscriberId = subscriber,
            DeliveryId = deliveryId,
            Kind = KindName(report.Kind),
            report.Source,
            report.Status,
            report.Diagnostic,
            At = at.ToUnixTimeMilliseconds(),
            ReportKey = reportKey,
            Reason = Reason(report),
            Limit = softLimit,
        };
        if (await connection.ExecuteScalarAsync<long?>(Command(InsertEvent, parameters, transaction, cancellationToken)) is null)
        {
            return BounceOutcome.Duplicate;
        }

        var outcome = BounceOutcome.Recorded;
        switch (report.Kind)
        {
            case BounceKind.Hard:
                await connection.ExecuteAsync(Command(SuppressSubscriber, parameters, transaction, cancellationToken));
                outcome = BounceOutcome.Suppressed;
                break;
            case BounceKind.Soft when deliveryId is not null:
                if (await connection.ExecuteScalarAsync<long>(Command(LastSentAllSoftBounced, parameters, transaction, cancellationToken)) >= softLimit)
                {
                    await connection.ExecuteAsync(Command(SuppressSubscriber,
                        parameters with { Reason = $"{softLimit} soft bounces in a row, the last {report.Status ?? "without status"}" }, transaction, cancellationToken));
                    outcome = BounceOutcome.Suppressed;
                }

                break;
            case BounceKind.Complaint:
                await connection.ExecuteAsync(Command(UnsubscribeOnComplaint, parameters, transaction, cancellationToken));
                await connection.ExecuteAsync(Command(WithdrawConsentsWithReason, parameters, transaction, cancellationToken));
                outcome = BounceOutcome.Unsubscribed;
                break;
        }

        await transaction.CommitAsync(cancellationToken);
        return outcome;
    }

    public async Task<IReadOnlyList<BounceRecord>> EventsAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<BounceRecord>(Command(SelectEventsOfSubscriber, new { SubscriberId = subscriberId }, null, cancellationToken))];
    }

    /// <summary>Since when and why the address gets no mail; null when it does.</summary>
    public async Task<(DateTimeOffset At, string Reason)?> SuppressionAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long? SuppressedAt, string? SuppressedReason)>(
            Command(SelectSuppression, new { SubscriberId = subscriberId }, null, cancellationToken));
        return row.SuppressedAt is { } ms ? (DateTimeOffset.FromUnixTimeMilliseconds(ms), row.SuppressedReason ?? "") : null;
    }

    public async Task<IReadOnlyList<MailingBounceCounts>> CountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<MailingBounceCounts>(Command(CountsPerMailing, new { }, null, cancellationToken))];
    }

    public static string KindName(BounceKind kind) => kind switch
    {
        BounceKind.Hard => "hard",
        BounceKind.Soft => "soft",
        BounceKind.Complaint => "complaint",
        BounceKind.Policy => "policy",
        _ => "autoreply",
    };

    private static string Reason(BounceReport report) => report.Kind switch
    {
        BounceKind.Complaint => $"complaint: {report.Diagnostic ?? "spam report"}",
        _ => $"{KindName(report.Kind)} bounce {report.Status ?? ""}".TrimEnd(),
    };

    private static CommandDefinition Command(string sql, object parameters, DbTransaction? transaction, CancellationToken cancellationToken) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);
}
