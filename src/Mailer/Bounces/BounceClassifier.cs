using System.Text.RegularExpressions;
using MimeKit;

namespace Mailer.Bounces;

/// <summary>What a report says about an address.</summary>
public enum BounceKind
{
    /// <summary>The mailbox or domain does not exist (5.1.x): no more mail to it.</summary>
    Hard,

    /// <summary>Full, delayed, a temporary error: counts towards <c>Bounces:SoftLimit</c>.</summary>
    Soft,

    /// <summary>The recipient reported the mail as spam (ARF abuse): unsubscribed at once.</summary>
    Complaint,

    /// <summary>Refused for our reputation or authentication (5.7.x): not the subscriber's fault, never suppresses, warns the operator.</summary>
    Policy,

    /// <summary>An out-of-office or other automatic answer: recorded, counted apart, changes nothing.</summary>
    AutoReply,
}

/// <summary>One classified report: the kind, the DSN status, the remote server's words, and where a tag may be.</summary>
/// <param name="Source"><c>dsn</c>, <c>arf</c>, <c>autoreply</c> or <c>smtp</c>.</param>
/// <param name="TagCandidates">The addresses that may carry our tag, best first: the report's own recipient, then the original's envelope sender.</param>
public sealed record BounceReport(BounceKind Kind, string Source, string? Status, string? Diagnostic, IReadOnlyList<string> TagCandidates);

/// <summary>
/// Reads what comes back to the return path, by this table:
/// <list type="table">
/// <item><term>DSN, <c>Action: delayed</c></term><description>soft</description></item>
/// <item><term>DSN status 5.1.x (bad mailbox or domain), 5.4.4 (no such domain)</term><description>hard</description></item>
/// <item><term>DSN status 5.2.x (5.2.2 mailbox full), other 5.x.x, 4.x.x</term><description>soft</description></item>
/// <item><term>DSN status 5.7.x (policy, reputation, authentication)</term><description>policy</description></item>
/// <item><term>DSN <c>Action: delivered / relayed / expanded</c>, status 2.x.x</term><description>nothing</description></item>
/// <item><term>ARF <c>Feedback-Type: abuse</c></term><description>complaint</description></item>
/// <item><term>ARF <c>Feedback-Type: auth-failure</c></term><description>policy</description></item>
/// <item><term><c>Auto-Submitted</c> (not <c>no</c>), <c>X-Autoreply</c>, <c>Precedence: auto_reply</c>, an out-of-office subject</term><description>auto-reply</description></item>
/// <item><term>anything else</term><description>nothing (null)</description></item>
/// </list>
/// A DSN is recognised before an auto-reply: mail systems mark their own bounces <c>Auto-Submitted: auto-replied</c>.
/// </summary>
public static partial class BounceClassifier
{
    public static BounceReport? Classify(MimeMessage message)
    {
        var envelope = EnvelopeRecipients(message);
        foreach (var report in message.BodyParts.OfType<MessageDeliveryStatus>().Take(1))
        {
            return FromDeliveryStatus(message, report, envelope);
        }

        foreach (var report in message.BodyParts.OfType<MessageFeedbackReport>().Take(1))
        {
            return FromFeedbackReport(message, report, envelope);
        }

        return IsAutoReply(message) ? new BounceReport(BounceKind.AutoReply, "autoreply", null, Trim(message.Subject), envelope) : null;
    }

    /// <summary>The kind for a DSN status and action; null for one that reports no failure.</summary>
    public static BounceKind? KindOf(string? status, string? action)
    {
        var act = action?.Trim().ToLowerInvariant();
        if (act is "delivered" or "relayed" or "expanded")
        {
            return null;
        }

        if (act == "delayed")
        {
            return BounceKind.Soft;
        }

        var code = status is null ? null : StatusCode().Match(status);
        if (code is not { Success: true })
        {
            return act == "failed" ? BounceKind.Soft : null;
        }

        var (cls, subject, detail) = (code.Groups[1].Value, code.Groups[2].Value, code.Groups[3].Value);
        return cls switch
        {
            "2" => null,
            "4" => BounceKind.Soft,
            _ when subject == "1" => BounceKind.Hard,
            _ when subject == "4" && detail == "4" => BounceKind.Hard,
            _ when subject == "7" => BounceKind.Policy,
            _ => BounceKind.Soft,
        };
    }

    /// <summary>
    /// A refusal the SMTP server gave at send time (<c>550 5.1.1 ...</c>), by the same table; null when the reply has no
    /// enhanced status code: then nothing says whether the address or the message was refused.
    /// </summary>
    public static BounceReport? FromSmtpReply(string reply)
    {
        var match = SmtpReply().Match(reply);
        if (!match.Success || KindOf(match.Groups[1].Value, "failed") is not { } kind)
        {
            return null;
        }

        return new BounceReport(kind, "smtp", match.Groups[1].Value, Trim(reply), []);
    }

    private static BounceReport? FromDeliveryStatus(MimeMessage message, MessageDeliveryStatus report, IReadOnlyList<string> envelope)
    {
        // Group 0 is about the message, each later group about one recipient; with VERP there is one that matters.
        foreach (var recipient in report.StatusGroups.Skip(1))
        {
            var status = recipient["Status"]?.Trim();
            if (KindOf(status, recipient["Action"]) is { } kind)
            {
                var candidates = envelope.Concat(OriginalEnvelopeSender(message)).ToList();
                return new BounceReport(kind, "dsn", StatusCode().Match(status ?? "") is { Success: true } m ? m.Value : null,
                    Trim(recipient["Diagnostic-Code"] ?? recipient["Status"]), candidates);
            }
        }

        return null;
    }

    private static BounceReport? FromFeedbackReport(MimeMessage message, MessageFeedbackReport report, IReadOnlyList<string> envelope)
    {
        var type = report.Fields["Feedback-Type"]?.Trim().ToLowerInvariant();
        BounceKind? kind = type switch
        {
            "abuse" => BounceKind.Complaint,
            "auth-failure" => BounceKind.Policy,
            _ => null,
        };
        if (kind is null)
        {
            return null;
        }

        // A feedback loop writes to its registered address, not to the tag: the original's envelope sender names it.
        var candidates = new List<string>();
        if (report.Fields["Original-Mail-From"] is { } originalFrom)
        {
            candidates.Add(originalFrom);
        }

        candidates.AddRange(OriginalEnvelopeSender(message));
        candidates.AddRange(envelope);
        return new BounceReport(kind.Value, "arf", null, $"Feedback-Type: {type}", candidates);
    }

    /// <summary>Where the report was delivered to: the headers a final delivery adds, then To.</summary>
    private static List<string> EnvelopeRecipients(MimeMessage message)
    {
        var found = new List<string>();
        foreach (var name in new[] { "Delivered-To", "X-Original-To", "Envelope-To" })
        {
            found.AddRange(message.Headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value.Trim()));
        }

        found.AddRange(message.To.Mailboxes.Select(m => m.Address));
        return found;
    }

    /// <summary>The Return-Path in the returned message or its headers (<c>message/rfc822</c>, <c>text/rfc822-headers</c>), when the report carries one.</summary>
    private static IEnumerable<string> OriginalEnvelopeSender(MimeMessage report)
    {
        foreach (var part in report.BodyParts)
        {
            HeaderList? headers = part switch
            {
                MessagePart { Message: { } original } => original.Headers,
                TextPart text when text.ContentType.IsMimeType("text", "rfc822-headers") => ParseHeaders(text),
                _ => null,
            };
            if (headers?[HeaderId.ReturnPath] is { } returnPath)
            {
                yield return returnPath;
            }
        }
    }

    private static HeaderList? ParseHeaders(TextPart part)
    {
        using var stream = new MemoryStream();
        part.Content?.DecodeTo(stream);
        stream.Position = 0;
        try
        {
            return HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsAutoReply(MimeMessage message)
    {
        var autoSubmitted = message.Headers["Auto-Submitted"]?.Trim();
        return (!string.IsNullOrEmpty(autoSubmitted) && !autoSubmitted.StartsWith("no", StringComparison.OrdinalIgnoreCase))
            || message.Headers.Contains("X-Autoreply")
            || message.Headers.Contains("X-Autorespond")
            || string.Equals(message.Headers["Precedence"]?.Trim(), "auto_reply", StringComparison.OrdinalIgnoreCase)
            || OutOfOffice().IsMatch(message.Subject ?? "");
    }

    private static string? Trim(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var line = string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 500 ? line : line[..500];
    }

    [GeneratedRegex(@"\b([245])\.(\d{1,3})\.(\d{1,3})\b")]
    private static partial Regex StatusCode();

    [GeneratedRegex(@"^\s*5\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b")]
    private static partial Regex SmtpReply();

    [GeneratedRegex(@"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|abwesenheit|automatische antwort|auto:|r[ée]ponse automatique|absence)", RegexOptions.IgnoreCase)]
    private static partial Regex OutOfOffice();
}
