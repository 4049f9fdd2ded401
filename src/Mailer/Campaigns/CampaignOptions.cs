using System.ComponentModel.DataAnnotations;

namespace Mailer.Campaigns;

/// <summary>The <c>Campaign</c> section: the deadline everything counts towards, and the platforms' forms.</summary>
public sealed class CampaignOptions : IValidatableObject
{
    public const string Section = "Campaign";

    /// <summary>Name of the campaign, used in <c>List-Id</c>. Default <c>meta-ai-objection</c>.</summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9-]{0,62}$")]
    public string Name { get; set; } = "meta-ai-objection";

    /// <summary>The last moment to object, as a local date-time in <see cref="TimeZone"/>. Default 2024-05-26 23:59:59.</summary>
    public DateTime Deadline { get; set; } = new(2024, 5, 26, 23, 59, 59, DateTimeKind.Unspecified);

    /// <summary>IANA time zone of the deadline and of the schedule. Default <c>Europe/Berlin</c>.</summary>
    [Required]
    public string TimeZone { get; set; } = "Europe/Berlin";

    /// <summary>The platforms subscribers can choose, by name (<c>facebook</c>, <c>instagram</c>), with their objection form.</summary>
    public Dictionary<string, PlatformOptions> Platforms { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    /// <summary>The deadline as an instant.</summary>
    public DateTimeOffset DeadlineUtc
    {
        get
        {
            var zone = Zone;
            var local = DateTime.SpecifyKind(Deadline, DateTimeKind.Unspecified);
            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return new ValidationResult($"Campaign:TimeZone '{TimeZone}' is not a known time zone.", [nameof(TimeZone)]);
        }

        if (Platforms.Count == 0)
        {
            yield return new ValidationResult("Campaign:Platforms must name at least one platform with its FormUrl.", [nameof(Platforms)]);
        }

        foreach (var (name, platform) in Platforms)
        {
            if (!Uri.TryCreate(platform.FormUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
            {
                yield return new ValidationResult($"Campaign:Platforms:{name}:FormUrl must be an absolute https URL.", [nameof(Platforms)]);
            }
        }
    }
}

public sealed class PlatformOptions
{
    /// <summary>The platform's objection form; the only place a click-through redirect may lead.</summary>
    public string FormUrl { get; set; } = "";
}
