using Mailer.Pages;

namespace Mailer.Signups;

/// <summary>The JSON body of <c>POST /subscribe</c>.</summary>
/// <param name="Email">The address to subscribe, e.g. <c>name@example.de</c>.</param>
/// <param name="Platforms">One or more of the campaign's platforms, e.g. <c>["facebook", "instagram"]</c>.</param>
/// <param name="Locale"><c>de</c> or <c>en</c>; default: from <c>Accept-Language</c>, else <c>de</c>.</param>
public sealed record SignupRequest(string? Email, IReadOnlyList<string>? Platforms, string? Locale, string? Campaign = null, bool StandingList = false);

/// <summary>The answer to every accepted signup, whatever the address's state was.</summary>
public sealed record SignupAccepted(string Message);

/// <summary>
/// The fields of a signup, checked and normalized; <see cref="Errors"/> names each wrong field with a short
/// code (<c>missing</c>, <c>invalid</c>, <c>too-long</c>, <c>unknown</c>) that pages turn into their own words.
/// </summary>
public sealed record SignupFields(string Email, string Locale, IReadOnlyList<string> Platforms, IReadOnlyDictionary<string, string> Errors)
{
    public const string EmailField = "email";
    public const string PlatformsField = "platforms";
    public const string LocaleField = "locale";
    public const string CampaignField = "campaign";
    public const string StandingListField = "standingList";

    /// <summary>The body as a whole: not JSON, not an object, or a field of the wrong type or unknown.</summary>
    public const string BodyField = "body";

    public bool IsValid => Errors.Count == 0;

    /// <param name="locale">Null when the request names none: <paramref name="fallbackLocale"/> is taken.</param>
    public static SignupFields Check(string? email, IReadOnlyCollection<string>? platforms, string? locale, string fallbackLocale,
        IReadOnlyCollection<string> campaignPlatforms)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var emailProblem = EmailAddress.Normalize(email, out var normalized);
        if (emailProblem != EmailProblem.None)
        {
            errors[EmailField] = emailProblem switch
            {
                EmailProblem.Missing => "missing",
                EmailProblem.TooLong => "too-long",
                _ => "invalid",
            };
        }

        var chosen = new List<string>();
        if (platforms is null || platforms.Count == 0)
        {
            errors[PlatformsField] = "missing";
        }
        else
        {
            foreach (var name in platforms)
            {
                var known = campaignPlatforms.FirstOrDefault(p => string.Equals(p, name?.Trim(), StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    errors[PlatformsField] = "unknown";
                }
                else if (!chosen.Contains(known))
                {
                    chosen.Add(known);
                }
            }
        }

        var parsedLocale = locale is null ? fallbackLocale : RequestLocale.Parse(locale);
        if (parsedLocale is null)
        {
            errors[LocaleField] = "unknown";
        }

        var ordered = campaignPlatforms.Where(chosen.Contains).ToList();
        return new SignupFields(normalized, parsedLocale ?? fallbackLocale, ordered, errors);
    }

    /// <summary>The errors in English words for API clients (RFC 7807 <c>errors</c>).</summary>
    public Dictionary<string, string[]> Describe(IReadOnlyCollection<string> campaignPlatforms) =>
        Errors.ToDictionary(e => e.Key, e => new[] { Describe(e.Key, e.Value, campaignPlatforms) });

    public static string Describe(string field, string code, IReadOnlyCollection<string> campaignPlatforms) => (field, code) switch
    {
        (EmailField, "missing") => "Enter the e-mail address to subscribe.",
        (EmailField, "too-long") => "The e-mail address is too long (at most 64 characters before the @, 254 in all).",
        (EmailField, _) => "Enter an e-mail address such as name@example.de (no spaces or umlauts before the @).",
        (PlatformsField, "missing") => $"Choose at least one platform: {string.Join(", ", campaignPlatforms)}.",
        (PlatformsField, _) => $"Unknown platform; choose from: {string.Join(", ", campaignPlatforms)}.",
        (LocaleField, _) => "Unknown locale; use de or en.",
        _ => "Send a JSON object such as {\"email\": \"name@example.de\", \"platforms\": [\"facebook\"], \"locale\": \"de\"}.",
    };
}
