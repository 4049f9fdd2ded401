using System.ComponentModel.DataAnnotations;
using Mailer.Rendering;
using Mailer.Signups.Embedding;

namespace Mailer.Subscribers;

/// <summary>The <c>Subscribers</c> section: signup, double opt-in and the limits that protect them.</summary>
public sealed class SubscribersOptions : IValidatableObject
{
    public const string Section = "Subscribers";

    /// <summary>
    /// How long a pending address waits before another signup sends it a new confirmation mail; signups in
    /// between are answered alike but send nothing. Default 10 minutes (<c>00:10:00</c>).
    /// </summary>
    public TimeSpan ResendAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the link in a confirmation mail holds. Default 7 days (<c>7.00:00:00</c>).</summary>
    public TimeSpan ConfirmWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The name of the consent text shown under the signup form (<c>templates/pages/consent.{locale}.html.sbn</c>).
    /// Every consent records it with the locale and a fingerprint of that file, so an edit of the text is
    /// provable even if nobody changes this name. Default <c>2024-05</c>.
    /// </summary>
    [Required(ErrorMessage = "Subscribers:ConsentTextVersion is required, e.g. '2024-05'.")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        ErrorMessage = "Subscribers:ConsentTextVersion must be 1-40 letters, digits, '.', '_' or '-', e.g. '2024-05'.")]
    public string ConsentTextVersion { get; set; } = "2024-05";

    /// <summary>
    /// How long a link event (a click-through, a done mark) keeps the client's address and user agent; after that the
    /// retention job removes both and keeps the event itself. Default 90 days (<c>90.00:00:00</c>), 1 to 3650 days.
    /// </summary>
    public TimeSpan KeepLinkEventsFor { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Signups (<c>POST /subscribe</c>) one client address may send per <see cref="SignupWindow"/>. Default 10.</summary>
    [Range(1, 100_000, ErrorMessage = "Subscribers:SignupsPerClient must be 1-100000.")]
    public int SignupsPerClient { get; set; } = 10;

    /// <summary>The window <see cref="SignupsPerClient"/> counts in. Default 1 minute (<c>00:01:00</c>).</summary>
    public TimeSpan SignupWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The largest body accepted by the signup and the service's forms, in bytes. Default 16384 (16 KB).</summary>
    [Range(1024, 1024 * 1024, ErrorMessage = "Subscribers:MaxRequestBodyBytes must be 1024-1048576.")]
    public int MaxRequestBodyBytes { get; set; } = 16 * 1024;

    /// <summary>Language of the pages when neither <c>?lang=</c> nor <c>Accept-Language</c> chooses one. Default <c>de</c>.</summary>
    public string DefaultLocale { get; set; } = "de";

    /// <summary>
    /// The sites that embed the signup form (a blog article), as origins: <c>https://blog.example.org</c>, scheme and
    /// host and a port when it is not the default, no path. The JSON endpoint answers CORS for these only, and the
    /// "check your inbox" page links back only to these. A plain form posted from any site works without them.
    /// Set as <c>Subscribers:AllowedOrigins:0=https://blog.example.org</c>. Default: none.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ResendAfter < TimeSpan.Zero)
        {
            yield return new ValidationResult("Subscribers:ResendAfter must not be negative (e.g. 00:10:00).", [nameof(ResendAfter)]);
        }

        if (ConfirmWithin < TimeSpan.FromMinutes(1) || ConfirmWithin > TimeSpan.FromDays(90))
        {
            yield return new ValidationResult("Subscribers:ConfirmWithin must be between 00:01:00 and 90.00:00:00 (e.g. 7.00:00:00).", [nameof(ConfirmWithin)]);
        }

        if (KeepLinkEventsFor < TimeSpan.FromDays(1) || KeepLinkEventsFor > TimeSpan.FromDays(3650))
        {
            yield return new ValidationResult("Subscribers:KeepLinkEventsFor must be between 1.00:00:00 and 3650.00:00:00 (e.g. 90.00:00:00).", [nameof(KeepLinkEventsFor)]);
        }

        if (SignupWindow < TimeSpan.FromSeconds(1) || SignupWindow > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult("Subscribers:SignupWindow must be between 00:00:01 and 1.00:00:00 (e.g. 00:01:00).", [nameof(SignupWindow)]);
        }

        if (!Mailings.Locales.Contains(DefaultLocale))
        {
            yield return new ValidationResult($"Subscribers:DefaultLocale must be one of: {string.Join(", ", Mailings.Locales)}.", [nameof(DefaultLocale)]);
        }

        for (var i = 0; i < AllowedOrigins.Count; i++)
        {
            if (!SignupOrigins.TryNormalize(AllowedOrigins[i], out _))
            {
                yield return new ValidationResult($"Subscribers:AllowedOrigins:{i} ('{AllowedOrigins[i]}') must be an origin: http(s)://host[:port] "
                    + "with no path, not even a final '/', e.g. https://blog.example.org.", [nameof(AllowedOrigins)]);
            }
        }
    }
}
