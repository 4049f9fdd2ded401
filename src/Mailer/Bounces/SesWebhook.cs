using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mailer.Bounces;

/// <summary>
/// <c>POST /webhooks/bounces/ses</c>: Amazon SES bounce and complaint notifications through an SNS topic listed in
/// <c>Bounces:Webhook:SesTopicArns</c>. Every message must carry a valid SNS signature (<see cref="SnsVerifier"/>). SES
/// names the envelope sender it was given in <c>mail.source</c>: the tag says whose message it was. A subscription
/// confirmation is logged with its SubscribeURL for the operator to open.
/// </summary>
internal static class SesWebhook
{
    public static async Task<Results<Ok<BounceWebhookApi.WebhookAccepted>, ProblemHttpResult>> ReceiveAsync(byte[] body, BouncesOptions options,
        SnsVerifier verifier, ReturnPath returnPath, BounceIntake intake, ILogger logger, CancellationToken cancellationToken)
    {
        SnsMessage? sns;
        try
        {
            sns = JsonSerializer.Deserialize<SnsMessage>(body);
        }
        catch (JsonException)
        {
            sns = null;
        }

        if (sns is null)
        {
            return BounceWebhookApi.Problem(StatusCodes.Status400BadRequest, "Not an SNS message.", null);
        }

        var topics = options.Webhook.SesTopicArns;
        if (sns.TopicArn is null || !topics.Contains(sns.TopicArn, StringComparer.Ordinal) || !await verifier.IsAuthenticAsync(sns, cancellationToken))
        {
            return BounceWebhookApi.Problem(StatusCodes.Status401Unauthorized, "The SNS message is not authentic or not from a configured topic.",
                "Its signature must verify with Amazon's certificate and its TopicArn be one of Bounces:Webhook:SesTopicArns.");
        }

        if (sns.Type is "SubscriptionConfirmation" or "UnsubscribeConfirmation")
        {
            BouncesLog.SnsSubscription(logger, sns.Type, sns.TopicArn, sns.SubscribeUrl ?? "");
            return TypedResults.Ok(new BounceWebhookApi.WebhookAccepted("none", sns.Type));
        }

        var reports = Reports(sns.Message);
        if (reports is null)
        {
            return BounceWebhookApi.Problem(StatusCodes.Status400BadRequest, "Not an SES notification.", null);
        }

        if (reports.Count == 0 || !returnPath.TryRead(reports[0].Source, out var tag))
        {
            return TypedResults.Ok(new BounceWebhookApi.WebhookAccepted("none", "nothing to record"));
        }

        var outcomes = new List<BounceOutcome>();
        foreach (var (report, _, recipient) in reports)
        {
            var key = $"{(tag.Kind == BounceTagKind.Delivery ? 'd' : 'c')}{tag.Id}:sns:{Hash(sns.MessageId + "/" + recipient)}";
            outcomes.Add(await intake.RecordAsync(tag, report, key, cancellationToken));
        }

        return TypedResults.Ok(new BounceWebhookApi.WebhookAccepted(BounceStore.KindName(reports[0].Report.Kind), outcomes.Max().ToString()));
    }

    /// <summary>The reports of one SES notification, one per recipient; null when it is not one; empty for deliveries and not-spam.</summary>
    internal static List<(BounceReport Report, string? Source, string Recipient)>? Reports(string? message)
    {
        try
        {
            using var document = JsonDocument.Parse(message ?? "");
            var root = document.RootElement;
            var type = Text(root, "notificationType") ?? Text(root, "eventType");
            var source = root.TryGetProperty("mail", out var mail) ? Text(mail, "source") : null;
            var found = new List<(BounceReport, string?, string)>();
            if (type == "Bounce" && root.TryGetProperty("bounce", out var bounce))
            {
                var bounceType = Text(bounce, "bounceType");
                foreach (var recipient in Items(bounce, "bouncedRecipients"))
                {
                    var status = Text(recipient, "status");
                    BounceKind? kind = status is not null ? BounceClassifier.KindOf(status, Text(recipient, "action") ?? "failed")
                        : bounceType == "Permanent" ? BounceKind.Hard : BounceKind.Soft;
                    if (kind is { } k)
                    {
                        found.Add((new BounceReport(k, "webhook", status, Text(recipient, "diagnosticCode") ?? $"SES {bounceType}/{Text(bounce, "bounceSubType")}", []),
                            source, Text(recipient, "emailAddress") ?? ""));
                    }
                }
            }
            else if (type == "Complaint" && root.TryGetProperty("complaint", out var complaint)
                     && Text(complaint, "complaintFeedbackType") is not "not-spam")
            {
                var feedback = Text(complaint, "complaintFeedbackType") ?? "abuse";
                foreach (var recipient in Items(complaint, "complainedRecipients"))
                {
                    found.Add((new BounceReport(BounceKind.Complaint, "webhook", null, $"SES complaint: {feedback}", []), source, Text(recipient, "emailAddress") ?? ""));
                }
            }
            else if (type is null)
            {
                return null;
            }

            return found;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IEnumerable<JsonElement> Items(JsonElement element, string name) =>
        element.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().Take(50) : [];

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
