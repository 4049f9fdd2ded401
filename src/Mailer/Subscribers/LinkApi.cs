using Mailer.Campaigns;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using Scriban.Runtime;

namespace Mailer.Subscribers;

/// <summary>
/// The endpoints behind the links in mails: confirm, unsubscribe, click through to a platform's form, mark a
/// platform done. Each checks its signed token for its own purpose, so a token acts only on its subscriber and
/// only for what it was issued for; a bad token shows a page and changes nothing.
/// <para>
/// Unsubscribing: <c>GET</c> only shows a button (mail scanners fetch links). The <c>POST</c> behind the button
/// carries an antiforgery token; a <c>POST</c> whose body is <c>List-Unsubscribe=One-Click</c> (RFC 8058, sent by
/// mail providers without cookies) is taken without one. That is safe: the signed token in the path is the
/// authority, and the only thing it can do is unsubscribe, which is idempotent.
/// </para>
/// </summary>
public sealed class LinkApi(
    ISubscriberStore store,
    LinkTokens tokens,
    PageRenderer pages,
    IAntiforgery antiforgery,
    IOptions<SubscribersOptions> options,
    IOptions<CampaignOptions> campaign,
    TimeProvider time,
    ILogger<LinkApi> logger)
{
    public async Task<IResult> ConfirmAsync(HttpContext context, string token)
    {
        var check = tokens.Check(token, TokenPurpose.Confirm, out var claim);
        if (check == TokenCheck.Invalid)
        {
            return Invalid(context, TokenPurpose.Confirm);
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        var locale = subscriber?.Locale ?? RequestLocale.Choose(context.Request);
        if (check == TokenCheck.Expired)
        {
            // An old link of someone who confirmed long ago still shows them where they stand.
            if (subscriber?.Status == SubscriberStatus.Confirmed)
            {
                return pages.Render(context, "confirmed", locale);
            }

            SubscribersLog.LinkRejected(logger, TokenPurpose.Confirm, "expired");
            return pages.Render(context, "link-expired", locale, statusCode: StatusCodes.Status410Gone);
        }

        var outcome = await store.ConfirmAsync(claim.SubscriberId, time.GetUtcNow(), ClientIp(context), context.RequestAborted);
        switch (outcome)
        {
            case ConfirmOutcome.Confirmed:
                SubscribersLog.SubscriberConfirmed(logger, claim.SubscriberId);
                return pages.Render(context, "confirmed", locale);
            case ConfirmOutcome.AlreadyConfirmed:
                return pages.Render(context, "confirmed", locale);
            default:
                SubscribersLog.LinkRejected(logger, TokenPurpose.Confirm, outcome.ToString());
                return pages.Render(context, "link-invalid", locale, statusCode: StatusCodes.Status404NotFound);
        }
    }

    public async Task<IResult> ShowUnsubscribeAsync(HttpContext context, string token)
    {
        if (tokens.Check(token, TokenPurpose.Unsubscribe, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Unsubscribe);
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        var locale = subscriber?.Locale ?? RequestLocale.Choose(context.Request);
        return subscriber is null or { Status: SubscriberStatus.Unsubscribed }
            ? pages.Render(context, "unsubscribed", locale)
            : pages.Render(context, "unsubscribe", locale, FormModel(token, formExpired: false), withForm: true);
    }

    public async Task<IResult> UnsubscribeAsync(HttpContext context, string token)
    {
        if (tokens.Check(token, TokenPurpose.Unsubscribe, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Unsubscribe);
        }

        var read = await ReadFormAsync(context);
        if (read.Form is not { } form)
        {
            return read.Refusal!;
        }

        var oneClick = string.Equals(form["List-Unsubscribe"], "One-Click", StringComparison.OrdinalIgnoreCase);
        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        var locale = subscriber?.Locale ?? RequestLocale.Choose(context.Request);
        if (!oneClick && !await antiforgery.IsRequestValidAsync(context))
        {
            SubscribersLog.FormTokenRejected(logger, "unsubscribe");
            return pages.Render(context, "unsubscribe", locale, FormModel(token, formExpired: true), StatusCodes.Status400BadRequest, withForm: true);
        }

        if (await store.UnsubscribeAsync(claim.SubscriberId, time.GetUtcNow(), context.RequestAborted))
        {
            SubscribersLog.Unsubscribed(logger, claim.SubscriberId, oneClick);
        }

        return pages.Render(context, "unsubscribed", locale);
    }

    public async Task<IResult> GoAsync(HttpContext context, string token, string platform)
    {
        var known = KnownPlatform(platform);
        if (known is null || tokens.Check(token, TokenPurpose.Click, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Click);
        }

        if (await store.RecordClickAsync(claim.SubscriberId, known, time.GetUtcNow(), context.RequestAborted))
        {
            SubscribersLog.ClickRecorded(logger, claim.SubscriberId, known);
        }

        // The target is configuration, never the request.
        return TypedResults.Redirect(campaign.Value.Platforms[known].FormUrl);
    }

    public async Task<IResult> ShowDoneAsync(HttpContext context, string token, string platform)
    {
        var known = KnownPlatform(platform);
        if (known is null || tokens.Check(token, TokenPurpose.Done, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Done);
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        if (subscriber is null or { Status: SubscriberStatus.Unsubscribed })
        {
            return Invalid(context, TokenPurpose.Done);
        }

        return subscriber.DonePlatforms.Contains(known)
            ? pages.Render(context, "done-recorded", subscriber.Locale, PlatformModel(known))
            : pages.Render(context, "done", subscriber.Locale, DoneFormModel(token, known, formExpired: false), withForm: true);
    }

    public async Task<IResult> MarkDoneAsync(HttpContext context, string token, string platform)
    {
        var known = KnownPlatform(platform);
        if (known is null || tokens.Check(token, TokenPurpose.Done, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Done);
        }

        if ((await ReadFormAsync(context)).Refusal is { } refusal)
        {
            return refusal;
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        if (subscriber is null or { Status: SubscriberStatus.Unsubscribed })
        {
            return Invalid(context, TokenPurpose.Done);
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            SubscribersLog.FormTokenRejected(logger, "done");
            return pages.Render(context, "done", subscriber.Locale, DoneFormModel(token, known, formExpired: true), StatusCodes.Status400BadRequest, withForm: true);
        }

        if (await store.MarkDoneAsync(claim.SubscriberId, known, time.GetUtcNow(), context.RequestAborted))
        {
            SubscribersLog.DoneRecorded(logger, claim.SubscriberId, known);
        }

        return pages.Render(context, "done-recorded", subscriber.Locale, PlatformModel(known));
    }

    private IResult Invalid(HttpContext context, TokenPurpose purpose)
    {
        SubscribersLog.LinkRejected(logger, purpose, "invalid");
        return pages.Render(context, "link-invalid", RequestLocale.Choose(context.Request), statusCode: StatusCodes.Status404NotFound);
    }

    private static IResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request is too large.");

    /// <summary>The form of the request (empty when it has none), or the answer when there is none to read: 413 over the limit, 400 malformed.</summary>
    private async Task<FormRead> ReadFormAsync(HttpContext context)
    {
        if (!await RequestBody.TryBufferAsync(context.Request, options.Value.MaxRequestBodyBytes, context.RequestAborted))
        {
            return new FormRead(null, TooLarge());
        }

        if (!context.Request.HasFormContentType)
        {
            return new FormRead(FormCollection.Empty, null);
        }

        return await RequestBody.TryReadFormAsync(context.Request, context.RequestAborted) is { } form
            ? new FormRead(form, null)
            : new FormRead(null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form could not be read."));
    }

    private readonly record struct FormRead(IFormCollection? Form, IResult? Refusal);

    private string? KnownPlatform(string platform) =>
        campaign.Value.Platforms.Keys.FirstOrDefault(p => string.Equals(p, platform, StringComparison.OrdinalIgnoreCase));

    private static string? ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    private static ScriptObject FormModel(string token, bool formExpired) => new()
    {
        ["action"] = "/unsubscribe/" + token,
        ["form_expired"] = formExpired,
    };

    private static ScriptObject PlatformModel(string platform) => new()
    {
        ["platform"] = platform,
        ["platform_label"] = SignupApi.PlatformLabel(platform),
    };

    private static ScriptObject DoneFormModel(string token, string platform, bool formExpired)
    {
        var model = PlatformModel(platform);
        model["action"] = $"/done/{token}/{platform}";
        model["form_expired"] = formExpired;
        return model;
    }
}
