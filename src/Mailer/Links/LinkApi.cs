using Mailer.Campaigns;
using Mailer.Observability;
using Mailer.Pages;
using Mailer.Signups;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using Scriban.Runtime;

namespace Mailer.Links;

/// <summary>
/// The endpoints behind the links in mails: confirm, unsubscribe, click through to a platform's form, mark a
/// platform done. Each checks its signed token for its own purpose, so a token acts only on its subscriber and
/// only for what it was issued for; a bad token shows a page and changes nothing.
/// <para>
/// Confirming and unsubscribing: <c>GET</c> only shows a button (mail scanners fetch links). The <c>POST</c> behind the button
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
    CampaignCatalog catalog,
    TimeProvider time,
    MailerMetrics metrics,
    ILogger<LinkApi> logger)
{
    /// <summary>
    /// <c>GET /confirm/{token}</c>: the page with the one button that confirms. Opening the link changes nothing, because
    /// mail scanners (Safe Links, gateways, webmail previews) open every link of a mail on the person's behalf.
    /// </summary>
    public async Task<IResult> ShowConfirmAsync(HttpContext context, string token)
    {
        var (refusal, locale, _) = await CheckConfirmAsync(context, token);
        return refusal ?? pages.Render(context, "confirm", locale, FormModel("/confirm/" + token, formExpired: false), withForm: true);
    }

    /// <summary>
    /// <c>POST /confirm/{token}</c>, the button: confirms and records the consent's confirmation (time, address of this POST).
    /// <para>
    /// It requires the antiforgery token of the page, as the unsubscribe button does, and unlike the one-click unsubscribe
    /// there is no exemption: this press is the proof of consent, so it must come from a browser that showed the page to
    /// a person (its cookie and its form field together). A scanner or prefetcher that POSTs the bare link, or another
    /// site that makes a browser post, confirms nothing. A press on a page open too long (or from a form made before a key
    /// rotation) gets the page back with the button and a note, and changes nothing.
    /// </para>
    /// </summary>
    public async Task<IResult> ConfirmAsync(HttpContext context, string token)
    {
        var (refusal, locale, subscriberId) = await CheckConfirmAsync(context, token);
        if (refusal is not null)
        {
            return refusal;
        }

        if ((await ReadFormAsync(context)).Refusal is { } unreadable)
        {
            return unreadable;
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            LinksLog.FormTokenRejected(logger, "confirm");
            return pages.Render(context, "confirm", locale, FormModel("/confirm/" + token, formExpired: true), StatusCodes.Status400BadRequest, withForm: true);
        }

        var outcome = await store.ConfirmAsync(subscriberId, time.GetUtcNow(), ClientIp(context), context.RequestAborted);
        switch (outcome)
        {
            case ConfirmOutcome.Confirmed:
                LinksLog.SubscriberConfirmed(logger, subscriberId);
                metrics.Confirmed();
                return pages.Render(context, "confirmed", locale);
            case ConfirmOutcome.AlreadyConfirmed:
                return pages.Render(context, "confirmed", locale);
            default:
                LinksLog.LinkRejected(logger, TokenPurpose.Confirm, outcome.ToString());
                return pages.Render(context, "link-invalid", locale, statusCode: StatusCodes.Status404NotFound);
        }
    }

    /// <summary>
    /// What a confirmation link shows instead of its button, alike on GET and POST: the confirmed page for someone already
    /// confirmed (an old link still shows where they stand), 410 for an expired link, 404 for a tampered or foreign one or
    /// a subscriber who left or was erased. No refusal when the button may be shown and pressed.
    /// </summary>
    private async Task<(IResult? Refusal, string Locale, long SubscriberId)> CheckConfirmAsync(HttpContext context, string token)
    {
        var check = tokens.Check(token, TokenPurpose.Confirm, out var claim);
        if (check == TokenCheck.Invalid)
        {
            return (Invalid(context, TokenPurpose.Confirm), RequestLocale.Choose(context.Request), 0);
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        var locale = subscriber?.Locale ?? RequestLocale.Choose(context.Request);
        if (subscriber?.Status == SubscriberStatus.Confirmed)
        {
            return (pages.Render(context, "confirmed", locale), locale, subscriber.Id);
        }

        if (check == TokenCheck.Expired)
        {
            LinksLog.LinkRejected(logger, TokenPurpose.Confirm, "expired");
            return (pages.Render(context, "link-expired", locale, statusCode: StatusCodes.Status410Gone), locale, claim.SubscriberId);
        }

        if (subscriber is not { Status: SubscriberStatus.Pending })
        {
            LinksLog.LinkRejected(logger, TokenPurpose.Confirm, subscriber is null ? "unknown" : "unsubscribed");
            return (pages.Render(context, "link-invalid", locale, statusCode: StatusCodes.Status404NotFound), locale, claim.SubscriberId);
        }

        return (null, locale, subscriber.Id);
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
            : pages.Render(context, "unsubscribe", locale, FormModel("/unsubscribe/" + token, formExpired: false), withForm: true);
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
            LinksLog.FormTokenRejected(logger, "unsubscribe");
            return pages.Render(context, "unsubscribe", locale, FormModel("/unsubscribe/" + token, formExpired: true), StatusCodes.Status400BadRequest, withForm: true);
        }

        // One click (RFC 8058) and the page's first button leave this campaign; the second leaves every campaign.
        if (!oneClick && string.Equals(form["scope"], "everything", StringComparison.Ordinal))
        {
            if (await store.UnsubscribeEverywhereAsync(claim.SubscriberId, time.GetUtcNow(), context.RequestAborted) > 0)
            {
                LinksLog.Unsubscribed(logger, claim.SubscriberId, oneClick);
            }
        }
        else if (await store.UnsubscribeAsync(claim.SubscriberId, time.GetUtcNow(), context.RequestAborted))
        {
            LinksLog.Unsubscribed(logger, claim.SubscriberId, oneClick);
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

        // The form of the subscriber's own campaign; a platform of another campaign is no link of theirs.
        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        var campaign = catalog.Find(subscriber?.Campaign) ?? catalog.Default;
        if (campaign is null || !campaign.Platforms.TryGetValue(known, out var form))
        {
            return Invalid(context, TokenPurpose.Click);
        }

        if (await store.RecordClickAsync(claim.SubscriberId, known, time.GetUtcNow(), LinkClient.Of(context), context.RequestAborted))
        {
            LinksLog.ClickRecorded(logger, claim.SubscriberId, known);
        }

        // The target is configuration, never the request.
        return TypedResults.Redirect(form.FormUrl);
    }

    public async Task<IResult> ShowDoneAsync(HttpContext context, string token, string platform)
    {
        var known = KnownPlatform(platform);
        if (known is null || tokens.Check(token, TokenPurpose.Done, out var claim) != TokenCheck.Valid)
        {
            return Invalid(context, TokenPurpose.Done);
        }

        var subscriber = await store.FindAsync(claim.SubscriberId, context.RequestAborted);
        if (subscriber is null or { Status: SubscriberStatus.Unsubscribed } || !IsOwnPlatform(subscriber, known))
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
        if (subscriber is null or { Status: SubscriberStatus.Unsubscribed } || !IsOwnPlatform(subscriber, known))
        {
            return Invalid(context, TokenPurpose.Done);
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            LinksLog.FormTokenRejected(logger, "done");
            return pages.Render(context, "done", subscriber.Locale, DoneFormModel(token, known, formExpired: true), StatusCodes.Status400BadRequest, withForm: true);
        }

        if (await store.MarkDoneAsync(claim.SubscriberId, known, time.GetUtcNow(), LinkClient.Of(context), context.RequestAborted))
        {
            LinksLog.DoneRecorded(logger, claim.SubscriberId, known);
        }

        return pages.Render(context, "done-recorded", subscriber.Locale, PlatformModel(known));
    }

    private IResult Invalid(HttpContext context, TokenPurpose purpose)
    {
        LinksLog.LinkRejected(logger, purpose, "invalid");
        return pages.Render(context, "link-invalid", RequestLocale.Choose(context.Request), statusCode: StatusCodes.Status404NotFound);
    }

    private static IResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request is too large.");

    /// <summary>The form of the request (empty when it has none), or the answer when there is none to read: 413 over the limit, 400 malformed, 408 cut off.</summary>
    private async Task<FormRead> ReadFormAsync(HttpContext context)
    {
        if (await RequestBody.BufferAsync(context.Request, options.Value.MaxRequestBodyBytes, context.RequestAborted) is { } refusal)
        {
            return new FormRead(null, refusal == StatusCodes.Status413PayloadTooLarge ? TooLarge()
                : TypedResults.Problem(statusCode: refusal, title: "The request body could not be read."));
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

    /// <summary>The platform as some campaign names it; whether it is the subscriber's campaign's is checked once they are read.</summary>
    private string? KnownPlatform(string platform) =>
        catalog.All.SelectMany(c => c.Platforms.Keys).FirstOrDefault(p => string.Equals(p, platform, StringComparison.OrdinalIgnoreCase));

    private bool IsOwnPlatform(Subscriber subscriber, string platform) =>
        (catalog.Find(subscriber.Campaign) ?? catalog.Default)?.Platforms.ContainsKey(platform) == true;

    private static string? ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    /// <summary>The model of a page with one button that posts to <paramref name="action"/>.</summary>
    private static ScriptObject FormModel(string action, bool formExpired) => new()
    {
        ["action"] = action,
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
