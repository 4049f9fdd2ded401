using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mailer.Signups;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

/// <summary>
/// <c>POST /webhooks/bounces/generic</c>: a bounce or complaint that a relay (or a script reading another mailbox)
/// reports as JSON, signed with <c>Bounces:Webhook:Secret</c>:
/// <code>
/// X-Mailer-Signature: sha256=&lt;hex of HMAC-SHA256(secret, body)&gt;
/// { "id": "report-4711", "type": "bounce", "returnPath": "bounces+d123-k7wq2m4xea@example.org",
///   "status": "5.1.1", "action": "failed", "diagnostic": "smtp; 550 5.1.1 User unknown" }
/// </code>
/// <c>type</c> is <c>bounce</c> (kind by the DSN table from <c>status</c> and <c>action</c>) or <c>complaint</c>;
/// <c>returnPath</c> is the original message's envelope sender with its tag; <c>id</c> is the report's own id (the same
/// id twice counts once). Unsigned or wrongly signed: 401; unreadable or without a valid tag: 400; nothing changes either way.
/// </summary>
public static class BounceWebhookApi
{
    public const string SignatureHeader = "X-Mailer-Signature";

    public static void MapBounceWebhooks(this IEndpointRouteBuilder app) =>
        app.MapPost("/webhooks/bounces/{provider}", ReceiveAsync).DisableAntiforgery();

    /// <summary>What the webhook did with the report.</summary>
    public sealed record WebhookAccepted(string Kind, string Outcome);

    private sealed record GenericReport(string? Id, string? Type, string? ReturnPath, string? Status, string? Action, string? Diagnostic);

    internal static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> ReceiveAsync(string provider, HttpRequest request,
        IOptions<BouncesOptions> options, ReturnPath returnPath, BounceIntake intake, SnsVerifier sns, ILogger<BounceIntake> logger, CancellationToken cancellationToken)
    {
        var secret = options.Value.Webhook.Secret;
        var known = provider switch
        {
            "generic" => !string.IsNullOrEmpty(secret),
            "ses" => options.Value.Webhook.SesTopicArns.Count > 0,
            _ => false,
        };
        if (!known)
        {
            return Problem(StatusCodes.Status404NotFound, "No such bounce webhook.",
                "Known: generic (with Bounces:Webhook:Secret set) and ses (with Bounces:Webhook:SesTopicArns set).");
        }

        if (await RequestBody.BufferAsync(request, options.Value.Webhook.MaxBodyBytes, cancellationToken) is { } refused)
        {
            return refused == StatusCodes.Status413PayloadTooLarge
                ? Problem(refused, "The request is too large.", null)
                : Problem(refused, "The request body could not be read.", null);
        }

        var body = ((MemoryStream)request.Body).ToArray();
        if (provider == "ses")
        {
            return await SesWebhook.ReceiveAsync(body, options.Value, sns, returnPath, intake, logger, cancellationToken);
        }

        if (!SignatureMatches(secret!, body, request.Headers[SignatureHeader].ToString()))
        {
            return Problem(StatusCodes.Status401Unauthorized, "The report is not signed with the shared secret.",
                $"Send {SignatureHeader}: sha256=<hex of HMAC-SHA256(Bounces:Webhook:Secret, body)>.");
        }

        GenericReport? report;
        try
        {
            report = JsonSerializer.Deserialize<GenericReport>(body, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            report = null;
        }

        if (report is not { Id.Length: > 0 and <= 200 } || !returnPath.TryRead(report.ReturnPath, out var tag))
        {
            return Problem(StatusCodes.Status400BadRequest, "The report is not valid.", "It needs an id (1-200 characters) and a returnPath with a valid tag.");
        }

        BounceKind? kind = report.Type switch
        {
            "complaint" => BounceKind.Complaint,
            "bounce" => BounceClassifier.KindOf(report.Status, report.Action ?? "failed"),
            _ => null,
        };
        if (kind is null)
        {
            return report.Type is "bounce"
                ? TypedResults.Ok(new WebhookAccepted("none", "nothing to record: the status reports no failure"))
                : Problem(StatusCodes.Status400BadRequest, "The report is not valid.", "type must be bounce or complaint.");
        }

        var bounce = new BounceReport(kind.Value, "webhook", report.Status, report.Diagnostic ?? (kind == BounceKind.Complaint ? "webhook complaint" : null), []);
        var key = $"{(tag.Kind == BounceTagKind.Delivery ? 'd' : 'c')}{tag.Id}:webhook:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(report.Id)))[..32]}";
        var outcome = await intake.RecordAsync(tag, bounce, key, cancellationToken);
        return TypedResults.Ok(new WebhookAccepted(BounceStore.KindName(kind.Value), outcome.ToString()));
    }

    /// <summary>Whether <paramref name="header"/> is <c>sha256=</c> and the hex HMAC of <paramref name="body"/>, compared in constant time.</summary>
    internal static bool SignatureMatches(string secret, byte[] body, string header)
    {
        const string prefix = "sha256=";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || header.Length != prefix.Length + 64)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
    }

    internal static ProblemHttpResult Problem(int status, string title, string? detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
