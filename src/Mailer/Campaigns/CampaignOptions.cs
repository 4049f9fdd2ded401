using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Mailer.Campaigns;

/// <summary>
/// One campaign: the deadline everything counts towards, the platforms' forms and the mailings, read from
/// <c>Campaigns:&lt;name&gt;</c> (see <see cref="CampaignCatalog"/>), together with the engine's settings from the
/// <c>Campaign</c> section (<see cref="PollInterval"/>, <see cref="BatchSize"/>, <see cref="LeaseDuration"/>,
/// <see cref="MaxAttempts"/>, <see cref="RetryBaseDelay"/>), which are the same for every campaign. The old form, the
/// whole campaign in <c>Campaign</c>, still describes the one campaign named by <see cref="Name"/>.
/// </summary>
public sealed class CampaignOptions : IValidatableObject
{
    public const string Section = "Campaign";

    /// <summary>Where this campaign's settings are, for messages: <c>Campaigns:meta-ai-objection</c>, or <c>Campaign</c> in the old form.</summary>
    internal string Key { get; set; } = Section;

    /// <summary>Name of the campaign, used in <c>List-Id</c> and <c>Feedback-ID</c>. Default <c>meta-ai-objection</c>.</summary>
    [Required(ErrorMessage = "Campaign:Name is required, e.g. meta-ai-objection."), RegularExpression("^[a-z0-9][a-z0-9-]{0,62}$", ErrorMessage = "Campaign:Name must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit, such as meta-ai-objection.")]
    public string Name { get; set; } = "meta-ai-objection";

    /// <summary>
    /// The last moment to object, ISO 8601 (see <see cref="ZonedTime.TryParse"/>): wall-clock time in <see cref="TimeZone"/>
    /// (<c>2024-05-26T23:59:59</c>) or an instant with its offset (<c>2024-05-26T21:59:59Z</c>,
    /// <c>2024-05-26T23:59:59+02:00</c>). Default <c>2024-05-26T23:59:59</c>.
    /// </summary>
    public string Deadline { get; set; } = "2024-05-26T23:59:59";

    /// <summary>IANA time zone of the deadline and of the schedule. Default <c>Europe/Berlin</c>.</summary>
    [Required]
    public string TimeZone { get; set; } = "Europe/Berlin";

    /// <summary>At most this many platforms: the start tries every mail for each combination of them.</summary>
    public const int MaxPlatforms = 8;

    /// <summary>The platforms subscribers can choose, by name (<c>facebook</c>, <c>instagram</c>), with their objection form; at most <see cref="MaxPlatforms"/>.</summary>
    public Dictionary<string, PlatformOptions> Platforms { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// When the announcement goes out to everyone confirmed by then, written as <see cref="Deadline"/> is (wall-clock time
    /// in <see cref="TimeZone"/>, or an instant with its offset). Default: empty, meaning the service's first start
    /// (recorded in the store).
    /// </summary>
    public string? LaunchAt { get; set; }

    /// <summary>
    /// The campaign's mailings by name (the name of their templates). Default, when none is configured, today's three:
    /// <c>announcement</c> at the launch (also to those who confirm later), <c>reminder-week</c> 7 days before the
    /// deadline at 09:00 and <c>reminder-final</c> on its day at 08:00 (both to those with a platform not yet done).
    /// </summary>
    public Dictionary<string, MailingOptions> Mailings { get; set; } = MailingOptions.Standard();

    /// <summary>
    /// Nobody gets two mails from Mailer less than this apart: a reminder of this campaign is skipped for whoever got
    /// its previous mail less than this before; a mail due while another campaign's mail went out less than this
    /// before waits for the gap, unless waiting would pass its end. Default 1 day.
    /// </summary>
    public TimeSpan MinGapBetweenMails { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The announcement also goes to the standing list (people who asked to hear of the next deadline), inviting them. Default false.</summary>
    public bool InviteStandingList { get; set; }

    /// <summary>The words of the calendar file with the deadline, attached to the launch mailing.</summary>
    public CalendarOptions Calendar { get; set; } = new();

    /// <summary>How often the dispatcher looks for due mailings. Default 1 minute; seconds that divide a minute, or whole minutes that divide an hour.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Ledger rows one batch job claims and sends over one SMTP connection. Default 500.</summary>
    [Range(1, 100_000, ErrorMessage = "Campaign:BatchSize must be between 1 and 100000.")]
    public int BatchSize { get; set; } = 500;

    /// <summary>How long a claimed batch belongs to its job before another may take it back (a dead process's rows). Default 2 minutes.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts for a message that keeps failing transiently (4xx, dropped connection) before it is recorded failed. Default 6.</summary>
    [Range(1, 100, ErrorMessage = "Campaign:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Wait before the second attempt; doubles with each further attempt. Default 30 seconds.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    private static TimeZoneInfo? FindZone(string id) => TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;

    /// <summary>Every mail of the campaign, by template name: the confirmation request, then the mailings (lower-case).</summary>
    /// <remarks>Read per message (the renderer checks the name): built once, after the settings are bound.</remarks>
    public IReadOnlyList<string> Mails => _mails ??=
        [Rendering.Mailings.Confirm, .. InviteStandingList ? [Rendering.Mailings.Invite] : Array.Empty<string>(), .. Mailings.Keys.Select(m => m.ToLowerInvariant()).Order(StringComparer.Ordinal)];

    private IReadOnlyList<string>? _mails;

    /// <summary>Whether <paramref name="mailing"/> goes out at the launch (the mail that carries the calendar file).</summary>
    public bool IsLaunch(string mailing) => Mailings.TryGetValue(mailing, out var options) && options.WhenFor(mailing) == MailingWhen.Launch;

    /// <summary>Whether <paramref name="mailing"/> goes only to those with a platform not yet done (a mail for none of them is never rendered).</summary>
    public bool IsForNotDone(string mailing) => Mailings.TryGetValue(mailing, out var options) && options.AudienceFor(mailing) == MailingAudience.NotDone;

    /// <summary>The mailing called <paramref name="name"/>, with its defaults resolved.</summary>
    public MailingOptions Mailing(string name) =>
        Mailings.TryGetValue(name, out var mailing) ? mailing : throw new ArgumentException($"'{name}' is not a mailing of {Key}.", nameof(name));

    /// <summary>The deadline as an instant (parsed once per value: pages and the schedule read it per request and per poll).</summary>
    public DateTimeOffset DeadlineUtc => Instant(Deadline, $"{Key}:Deadline", ref _deadline);

    /// <summary>The deadline as the clocks in <see cref="TimeZone"/> show it.</summary>
    public DateTime DeadlineLocal => ZonedTime.ToLocal(DeadlineUtc, Zone);

    /// <summary>The configured launch as an instant, or null for the first start.</summary>
    public DateTimeOffset? LaunchAtUtc => string.IsNullOrWhiteSpace(LaunchAt) ? null : Instant(LaunchAt, $"{Key}:LaunchAt", ref _launchAt);

    /// <summary>The Hangfire cron expression for <see cref="PollInterval"/> (six fields when it is seconds).</summary>
    public string PollCron => PollInterval < TimeSpan.FromMinutes(1)
        ? $"*/{(int)PollInterval.TotalSeconds} * * * * *"
        : $"*/{(int)PollInterval.TotalMinutes} * * * *";

    private static bool IsWholeDivisor(TimeSpan interval) =>
        interval < TimeSpan.FromMinutes(1)
            ? interval.Ticks % TimeSpan.TicksPerSecond == 0 && interval.TotalSeconds >= 1 && 60 % (int)interval.TotalSeconds == 0
            : interval.Ticks % TimeSpan.TicksPerMinute == 0 && interval.TotalMinutes <= 60 && 60 % (int)interval.TotalMinutes == 0;

    private Parsed? _deadline;
    private Parsed? _launchAt;

    /// <summary><paramref name="text"/> read as a moment in <see cref="TimeZone"/>, kept in <paramref name="cache"/> while neither changes.</summary>
    private DateTimeOffset Instant(string text, string key, ref Parsed? cache)
    {
        if (cache is { } hit && hit.Text == text && hit.Zone == TimeZone)
        {
            return hit.Instant;
        }

        var instant = ZonedTime.TryParse(text, Zone, key, out var parsed, out var problem) ? parsed : throw new InvalidOperationException(problem);
        cache = new Parsed(text, TimeZone, instant);
        return instant;
    }

    /// <summary>A parsed moment with what it was parsed from (one reference, so readers on other threads see all or nothing).</summary>
    private sealed record Parsed(string Text, string Zone, DateTimeOffset Instant);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone))
        {
            yield return new ValidationResult($"{Key}:TimeZone '{TimeZone}' is not a known time zone.", [nameof(TimeZone)]);
        }
        else
        {
            if (!ZonedTime.TryParse(Deadline, zone, $"{Key}:Deadline", out _, out var deadlineProblem))
            {
                yield return new ValidationResult(deadlineProblem, [nameof(Deadline)]);
            }

            if (!string.IsNullOrWhiteSpace(LaunchAt) && !ZonedTime.TryParse(LaunchAt, zone, $"{Key}:LaunchAt", out _, out var launchProblem))
            {
                yield return new ValidationResult(launchProblem, [nameof(LaunchAt)]);
            }
        }

        if (Platforms.Count == 0)
        {
            yield return new ValidationResult($"{Key}:Platforms must name at least one platform with its FormUrl.", [nameof(Platforms)]);
        }

        if (Platforms.Count > MaxPlatforms)
        {
            // The start renders every mail for every combination of platforms: 2^n of them.
            yield return new ValidationResult($"{Key}:Platforms may name at most {MaxPlatforms} platforms.", [nameof(Platforms)]);
        }

        foreach (var (name, mailing) in Mailings)
        {
            foreach (var problem in mailing.Problems($"{Key}:Mailings:{name}", name, FindZone(TimeZone)))
            {
                yield return new ValidationResult(problem, [nameof(Mailings)]);
            }
        }

        foreach (var problem in Calendar.Problems($"{Key}:Calendar"))
        {
            yield return new ValidationResult(problem, [nameof(Calendar)]);
        }

        if (!IsWholeDivisor(PollInterval))
        {
            yield return new ValidationResult("Campaign:PollInterval must be 1-30 seconds dividing a minute (e.g. 00:00:05) or 1-60 minutes dividing an hour (e.g. 00:01:00).", [nameof(PollInterval)]);
        }

        if (MinGapBetweenMails < TimeSpan.Zero)
        {
            yield return new ValidationResult($"{Key}:MinGapBetweenMails must not be negative.", [nameof(MinGapBetweenMails)]);
        }

        if (LeaseDuration < TimeSpan.FromSeconds(5))
        {
            yield return new ValidationResult("Campaign:LeaseDuration must be at least 00:00:05.", [nameof(LeaseDuration)]);
        }

        if (RetryBaseDelay < TimeSpan.Zero)
        {
            yield return new ValidationResult("Campaign:RetryBaseDelay must not be negative.", [nameof(RetryBaseDelay)]);
        }

        foreach (var (name, platform) in Platforms)
        {
            if (!Uri.TryCreate(platform.FormUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
            {
                yield return new ValidationResult($"{Key}:Platforms:{name}:FormUrl must be an absolute https URL.", [nameof(Platforms)]);
            }
        }
    }
}

public sealed class PlatformOptions
{
    /// <summary>The platform's objection form; the only place a click-through redirect may lead.</summary>
    public string FormUrl { get; set; } = "";
}
