using System.Text.Json;
using Mailer.Campaigns;
using Mailer.Observability;
using Mailer.Pages;
using Mailer.Signups.Embedding;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;
using Scriban.Runtime;

namespace Mailer.Signups;

/// <summary>
/// <c>GET /</c>, the signup page, and <c>POST /subscribe</c> for its form and for JSON clients.
/// A signup is answered alike whether the address is new, pending or confirmed, so nobody learns who is
/// subscribed. The answer comes after the row is committed; the confirmation mail goes out in a job.
/// <para>
/// The form takes posts from any site, without an antiforgery token, so it can be pasted into a blog article
/// (<c>embed</c>). A CSRF token guards what a foreign page could make a visitor's browser do with the visitor's own
/// authority, their cookies or their session. A signup carries none: anybody may send anybody's address from
/// anywhere, and a token would not stop that: the page that hands it out is public, so any program can fetch it and
/// post with its token. What keeps a stranger's signup harmless is the double opt-in (it only asks the address
/// by mail and records nothing as consent until its owner presses the button in that mail), the honeypot and the rate
/// limit. The confirm and unsubscribe buttons keep their token (<see cref="LinkApi"/>): that press is the act of the
/// person behind the link, the proof of consent or their choice to leave, and must come from the page Mailer showed them.
/// </para>
/// </summary>
public sealed class SignupApi(
    ISubscriberStore store,
    ConfirmationQueue confirmations,
    PageRenderer pages,
    SignupOrigins origins,
    IOptions<SubscribersOptions> options,
    CampaignCatalog catalog,
    TimeProvider time,
    MailerMetrics metrics,
    ILogger<SignupApi> logger)
{
    public const string RateLimitPolicy = "signup";

    /// <summary>The form field a person never sees and a bot fills.</summary>
    public const string HoneypotField = "website";

    private const int MaxUserAgentLength = 512;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    /// <summary>
    /// The campaign a signup is for: the one named (unknown, or past its deadline: null with the reason), or, when none
    /// is named, the only campaign, or with several the only one still open.
    /// </summary>
    internal CampaignOptions? Campaign(string? name, out string? problem)
    {
        problem = null;
        var now = time.GetUtcNow();
        if (!string.IsNullOrEmpty(name))
        {
            var named = catalog.Find(name);
            problem = named is null ? $"Unknown campaign; open: {OpenNames(now)}."
                : now > named.DeadlineUtc ? $"The campaign {named.Name} is closed: its deadline has passed; open: {OpenNames(now)}." : null;
            return problem is null ? named : null;
        }

        var open = catalog.All.Where(c => now <= c.DeadlineUtc).ToList();
        var chosen = catalog.All.Count == 1 ? catalog.All[0] : open.Count == 1 ? open[0] : null;
        problem = chosen is null ? $"Name the campaign; open: {OpenNames(now)}." : null;
        return chosen;
    }

    private string OpenNames(DateTimeOffset now) =>
        catalog.All.Where(c => now <= c.DeadlineUtc).Select(c => c.Name).DefaultIfEmpty("none").Aggregate((a, b) => $"{a}, {b}");

    /// <summary><c>/</c>: the form of the only (open) campaign; with several open, a list of them.</summary>
    public IResult ShowForm(HttpContext context)
    {
        var now = time.GetUtcNow();
        if (Campaign(null, out _) is { } only)
        {
            return ShowForm(context, only);
        }

        var open = catalog.All.Where(c => now <= c.DeadlineUtc)
            .Select(c => new ScriptObject { ["name"] = c.Name, ["url"] = "/" + c.Name, ["deadline"] = c.DeadlineUtc.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) })
            .ToList();
        return pages.Render(context, "campaigns", RequestLocale.Choose(context.Request), new ScriptObject { ["campaigns"] = open });
    }

    /// <summary><c>/{campaign}</c>: the signup form of one campaign; 404 for a name that is none.</summary>
    public IResult ShowForm(HttpContext context, string name) =>
        catalog.Find(name) is { } campaign ? ShowForm(context, campaign) : TypedResults.NotFound();

    private IResult ShowForm(HttpContext context, CampaignOptions campaign) =>
        pages.Render(context, "signup", RequestLocale.Choose(context.Request),
            FormModel(campaign, "", campaign.Platforms.Keys, new Dictionary<string, string>(), returnUrl: null), campaign: campaign);

    public async Task<IResult> SubscribeAsync(HttpContext context)
    {
        var request = context.Request;
        var isForm = request.HasFormContentType;
        if (!isForm && !request.HasJsonContentType())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type.",
                detail: "Send application/json or application/x-www-form-urlencoded.");
        }

        if (await RequestBody.BufferAsync(request, options.Value.MaxRequestBodyBytes, context.RequestAborted) is { } refusal)
        {
            return refusal == StatusCodes.Status413PayloadTooLarge
                ? TypedResults.Problem(statusCode: refusal, title: "The request is too large.", detail: $"A signup is at most {options.Value.MaxRequestBodyBytes} bytes.")
                : TypedResults.Problem(statusCode: refusal, title: "The request body could not be read.");
        }

        return isForm ? await SubscribeFromFormAsync(context) : await SubscribeFromJsonAsync(context);
    }

    private async Task<IResult> SubscribeFromJsonAsync(HttpContext context)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var body = await ReadJsonAsync(context.Request, errors, context.RequestAborted);
        string? campaignProblem = null;
        var campaign = body is null ? null : Campaign(body.Campaign, out campaignProblem);
        if (body is not null && campaign is null)
        {
            SignupLog.SignupRejected(logger, SignupFields.CampaignField);
            metrics.Signup("rejected");
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [SignupFields.CampaignField] = [campaignProblem!] }, title: "The signup is not valid.");
        }

        IReadOnlyCollection<string> platforms = campaign is null ? [] : campaign.Platforms.Keys;
        var fields = SignupFields.Check(body?.Email, body?.Platforms, body?.Locale, RequestLocale.Choose(context.Request), platforms);
        if (body is null || !fields.IsValid)
        {
            if (body is not null)
            {
                errors = fields.Describe(platforms);
            }

            SignupLog.SignupRejected(logger, string.Join(",", errors.Keys));
            metrics.Signup("rejected");
            return TypedResults.ValidationProblem(errors, title: "The signup is not valid.");
        }

        await RecordAsync(context, campaign!, fields, ConsentSource.Api, body.StandingList);
        return TypedResults.Accepted((string?)null, new SignupAccepted(fields.Locale == "de"
            ? "Fast geschafft: Bitte bestätige die Anmeldung über den Link in der E-Mail, die wir dir schicken."
            : "Almost done: please confirm with the link in the e-mail we are sending you."));
    }

    /// <summary>
    /// The JSON body as a <see cref="SignupRequest"/>, or null with <paramref name="errors"/> naming what is wrong:
    /// not a JSON object, a repeated or unknown field, a field of the wrong type.
    /// </summary>
    private static async Task<SignupRequest?> ReadJsonAsync(HttpRequest request, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, JsonOptions, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name that is no text, met by the duplicate-name check.
            errors[SignupFields.BodyField] = [SignupFields.Describe(SignupFields.BodyField, "", [])];
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !IsText(document.RootElement))
            {
                errors[SignupFields.BodyField] = [SignupFields.Describe(SignupFields.BodyField, "", [])];
                return null;
            }

            string? email = null, locale = null, campaign = null;
            var standingList = false;
            List<string>? platforms = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case SignupFields.EmailField when value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                        email = value.GetString();
                        break;
                    case SignupFields.LocaleField when value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                        locale = value.GetString();
                        break;
                    case SignupFields.CampaignField when value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                        campaign = value.GetString();
                        break;
                    case SignupFields.StandingListField when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        standingList = value.GetBoolean();
                        break;
                    case SignupFields.StandingListField:
                        errors[property.Name] = ["Must be true or false."];
                        break;
                    case SignupFields.PlatformsField when value.ValueKind == JsonValueKind.Null:
                        break;
                    case SignupFields.PlatformsField when value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String):
                        platforms = [.. value.EnumerateArray().Select(p => p.GetString()!)];
                        break;
                    case SignupFields.EmailField or SignupFields.LocaleField or SignupFields.CampaignField:
                        errors[property.Name] = ["Must be a string."];
                        break;
                    case SignupFields.PlatformsField:
                        errors[property.Name] = ["Must be an array of strings, e.g. [\"facebook\"]."];
                        break;
                    default:
                        var name = property.Name.Length <= 40 && property.Name.All(char.IsAsciiLetterOrDigit) ? property.Name : SignupFields.BodyField;
                        errors[name] = ["Unknown field; a signup has email, platforms, locale, campaign and standingList."];
                        break;
                }
            }

            return errors.Count == 0 ? new SignupRequest(email, platforms, locale, campaign, standingList) : null;
        }
    }

    /// <summary>
    /// Whether every name and string in <paramref name="element"/> is text. JsonDocument leaves a lone surrogate
    /// (<c>\ud800</c>) or bytes that are not UTF-8 to be found when the string is read, which then throws.
    /// </summary>
    private static bool IsText(JsonElement element)
    {
        try
        {
            return Read(element);
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        static bool Read(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => element.GetString() is not null,
            JsonValueKind.Array => element.EnumerateArray().All(Read),
            JsonValueKind.Object => element.EnumerateObject().All(p => p.Name is not null && Read(p.Value)),
            _ => true,
        };
    }

    private async Task<IResult> SubscribeFromFormAsync(HttpContext context)
    {
        if (await RequestBody.TryReadFormAsync(context.Request, context.RequestAborted) is not { } form)
        {
            SignupLog.SignupRejected(logger, SignupFields.BodyField);
            metrics.Signup("rejected");
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form could not be read.");
        }

        var pageLocale = RequestLocale.Parse(form[SignupFields.LocaleField]) ?? RequestLocale.Choose(context.Request);
        var returnField = form[SignupOrigins.ReturnUrlField];
        var returnUrl = origins.ReturnLink(returnField.Count == 1 ? returnField.ToString() : null, context.Request.Headers.Referer.ToString());
        var checkInbox = new ScriptObject { ["return_url"] = returnUrl };
        if (!string.IsNullOrEmpty(form[HoneypotField]))
        {
            // Looks accepted, so the bot learns nothing; stores and sends nothing.
            SignupLog.HoneypotFilled(logger);
            metrics.Signup("honeypot");
            return pages.Render(context, "check-inbox", pageLocale, checkInbox);
        }

        var named = form[SignupFields.CampaignField];
        string? campaignProblem = null;
        if (named.Count > 1 || Campaign(named.ToString(), out campaignProblem) is not { } campaign)
        {
            SignupLog.SignupRejected(logger, SignupFields.CampaignField);
            metrics.Signup("rejected");
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [SignupFields.CampaignField] = ["One campaign; " + (campaignProblem ?? "")] },
                title: "The signup is not valid.");
        }

        var email = form[SignupFields.EmailField];
        var fields = SignupFields.Check(email.Count > 1 ? null : email.ToString(), form[SignupFields.PlatformsField].OfType<string>().ToList(),
            form[SignupFields.LocaleField].Count == 0 ? null : form[SignupFields.LocaleField].ToString(), pageLocale, campaign.Platforms.Keys);
        if (!fields.IsValid)
        {
            SignupLog.SignupRejected(logger, string.Join(",", fields.Errors.Keys));
            metrics.Signup("rejected");
            return RenderForm(context, campaign, pageLocale, form, fields.Errors, returnUrl);
        }

        var standing = form[SignupFields.StandingListField];
        await RecordAsync(context, campaign, fields, ConsentSource.Form, standing.Count == 1 && standing.ToString() is "on" or "true");
        return pages.Render(context, "check-inbox", fields.Locale, checkInbox);
    }

    private async Task RecordAsync(HttpContext context, CampaignOptions campaign, SignupFields fields, ConsentSource source, bool standingList)
    {
        var userAgent = context.Request.Headers.UserAgent.ToString();
        var signup = new Signup(fields.Email, fields.Locale, fields.Platforms, source, pages.ConsentTextVersion(fields.Locale),
            context.Connection.RemoteIpAddress?.ToString(),
            userAgent.Length > MaxUserAgentLength ? userAgent[..MaxUserAgentLength] : userAgent)
        {
            Campaign = campaign.Name,
            StandingList = standingList,
            StandingListTextVersion = standingList ? pages.StandingListTextVersion(fields.Locale) : null,
        };
        var result = await store.SignUpAsync(signup, time.GetUtcNow(), options.Value.ResendAfter, context.RequestAborted);
        SignupLog.SignupRecorded(logger, result.SubscriberId, result.Outcome, result.ConfirmationRequested);
        metrics.Signup(MailerMetrics.OutcomeOf(result.Outcome));
        if (!result.ConfirmationRequested)
        {
            return;
        }

        try
        {
            await confirmations.RequestAsync(result.SubscriberId, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The request is committed; the sweep for unsent confirmations finds it.
            SignupLog.ConfirmationJobNotQueued(logger, result.SubscriberId, e);
        }
    }

    /// <summary>The form again with its errors; an embedded form's way back (<paramref name="returnUrl"/>) is kept for the next post.</summary>
    private IResult RenderForm(HttpContext context, CampaignOptions campaign, string locale, IFormCollection form, IReadOnlyDictionary<string, string> errors, string? returnUrl)
    {
        var chosen = form[SignupFields.PlatformsField].OfType<string>().ToList();
        var model = FormModel(campaign, form[SignupFields.EmailField].ToString(), campaign.Platforms.Keys.Where(p => chosen.Contains(p, StringComparer.OrdinalIgnoreCase)), errors, returnUrl);
        return pages.Render(context, "signup", locale, model, StatusCodes.Status400BadRequest, campaign: campaign);
    }

    private static ScriptObject FormModel(CampaignOptions campaign, string email, IEnumerable<string> chosen, IReadOnlyDictionary<string, string> errors, string? returnUrl)
    {
        var checkedPlatforms = chosen.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var errorCodes = new ScriptObject();
        foreach (var field in new[] { SignupFields.EmailField, SignupFields.PlatformsField, SignupFields.LocaleField })
        {
            errorCodes[field] = errors.GetValueOrDefault(field);
        }

        return new ScriptObject
        {
            ["email"] = email.Length > EmailAddress.MaxLength ? email[..EmailAddress.MaxLength] : email,
            ["campaign"] = campaign.Name,
            ["platforms"] = campaign.Platforms.Keys.Select(p => new ScriptObject { ["name"] = p, ["label"] = PlatformLabel(p), ["checked"] = checkedPlatforms.Contains(p) }).ToList(),
            ["errors"] = errorCodes,
            ["has_errors"] = errors.Count > 0,
            ["honeypot_field"] = HoneypotField,
            ["return_url"] = returnUrl,
        };
    }

    /// <summary>The name of a platform as people write it: <c>facebook</c> → <c>Facebook</c>.</summary>
    public static string PlatformLabel(string platform) =>
        platform.Length == 0 ? platform : char.ToUpperInvariant(platform[0]) + platform[1..];
}
