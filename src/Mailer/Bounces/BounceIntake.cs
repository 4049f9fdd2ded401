using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Bounces;

/// <summary>What became of one message that came back: its kind (null: no report) and what recording it did (null: no valid tag).</summary>
public readonly record struct IntakeResult(BounceKind? Kind, BounceOutcome? Outcome);

/// <summary>
/// Every report, whichever way it came (the bounce mailbox, the SMTP server's refusal at send time), goes through here:
/// classified (<see cref="BounceClassifier"/>), matched to its message by the tag in the envelope sender (a report
/// without a valid tag changes nothing), and recorded once under a key of the report.
/// </summary>
public sealed class BounceIntake(ReturnPath returnPath, BounceStore store, IOptions<BouncesOptions> options, TimeProvider time, ILogger<BounceIntake> logger)
{
    public async Task<IntakeResult> TakeAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var report = BounceClassifier.Classify(message);
        if (report is null)
        {
            BouncesLog.NotCounted(logger, "no delivery report, complaint or auto-reply");
            return new IntakeResult(null, null);
        }

        BounceTag? tag = null;
        foreach (var candidate in report.TagCandidates)
        {
            if (returnPath.TryRead(candidate, out var found))
            {
                tag = found;
                break;
            }
        }

        if (tag is not { } valid)
        {
            BouncesLog.NotCounted(logger, $"a {report.Kind} report without a valid tag of ours");
            return new IntakeResult(report.Kind, null);
        }

        return new IntakeResult(report.Kind, await RecordAsync(valid, report, ReportKey(valid, message), cancellationToken));
    }

    /// <summary>
    /// The SMTP server's permanent refusal of ledger row <paramref name="deliveryId"/> at send time, by the same table:
    /// <c>550 5.1.1</c> is a hard bounce, <c>550 5.7.1</c> a policy refusal that suppresses nothing. A reply without an
    /// enhanced status code records nothing.
    /// </summary>
    public Task RecordRefusalAsync(long deliveryId, string reply, CancellationToken cancellationToken) =>
        RecordRefusalAsync(new BounceTag(BounceTagKind.Delivery, deliveryId), reply, $"smtp:d{deliveryId}", cancellationToken);

    /// <summary>As for a ledger row, for the confirmation mail of one request (<paramref name="requestKey"/> tells requests apart).</summary>
    public Task RecordConfirmationRefusalAsync(long subscriberId, string requestKey, string reply, CancellationToken cancellationToken) =>
        RecordRefusalAsync(new BounceTag(BounceTagKind.Confirmation, subscriberId), reply, $"smtp:c{subscriberId}:{requestKey}", cancellationToken);

    private async Task RecordRefusalAsync(BounceTag tag, string reply, string key, CancellationToken cancellationToken)
    {
        if (BounceClassifier.FromSmtpReply(reply) is { } report)
        {
            await RecordAsync(tag, report, key, cancellationToken);
        }
    }

    /// <summary>Records a report already classified and matched (the webhook's), logging as for the mailbox.</summary>
    public async Task<BounceOutcome> RecordAsync(BounceTag tag, BounceReport report, string key, CancellationToken cancellationToken)
    {
        var outcome = await store.RecordAsync(tag, report, key, time.GetUtcNow(), options.Value.SoftLimit, cancellationToken);
        BouncesLog.Recorded(logger, report.Kind, report.Source, report.Status, tag.Kind, tag.Id, outcome);
        if (report.Kind == BounceKind.Policy && outcome != BounceOutcome.Duplicate)
        {
            BouncesLog.PolicyRefusal(logger, report.Status, tag.Kind, tag.Id);
        }

        return outcome;
    }

    /// <summary>The report's identity: its Message-Id, or a hash of all of it, under the tag it names.</summary>
    internal static string ReportKey(BounceTag tag, MimeMessage message)
    {
        byte[] identity;
        if (!string.IsNullOrWhiteSpace(message.MessageId))
        {
            identity = Encoding.UTF8.GetBytes("mid:" + message.MessageId.Trim().ToLowerInvariant());
        }
        else
        {
            using var bytes = new MemoryStream();
            message.WriteTo(bytes);
            identity = bytes.ToArray();
        }

        var kind = tag.Kind == BounceTagKind.Delivery ? 'd' : 'c';
        return $"{kind}{tag.Id}:{Convert.ToHexStringLower(SHA256.HashData(identity))[..32]}";
    }
}
