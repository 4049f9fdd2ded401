using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailer.Campaigns;

/// <summary>When a mailing goes out.</summary>
public enum MailingWhen
{
    /// <summary>At the campaign's launch, to everyone confirmed by then (and, with late joiners, to whoever confirms later).</summary>
    Launch,

    /// <summary>On the local date of (deadline − <see cref="MailingOptions.Before"/>) at <see cref="MailingOptions.AtLocalTime"/>.</summary>
    BeforeDeadline,

    /// <summary>At one moment, <see cref="MailingOptions.At"/>: a one-off.</summary>
    At,
}

/// <summary>Who a mailing is for.</summary>
public enum MailingAudience
{
    /// <summary>Everyone confirmed; the mail shows every platform they chose.</summary>
    Confirmed,

    /// <summary>Those with a chosen platform not yet marked done; the mail shows only those platforms.</summary>
    NotDone,
}

/// <summary>One mailing of a campaign (<c>Campaigns:&lt;name&gt;:Mailings:&lt;mailing&gt;</c>); its templates are <c>&lt;mailing&gt;.{subject,html,txt}.sbn</c>.</summary>
public sealed partial class MailingOptions
{
    /// <summary>
    /// <c>Launch</c>, <c>BeforeDeadline</c> or <c>At</c>. Default: <c>Launch</c> for a mailing called <c>announcement</c>,
    /// <c>At</c> when <see cref="At"/> is set, otherwise <c>BeforeDeadline</c>.
    /// </summary>
    public MailingWhen? When { get; set; }

    /// <summary>For <c>BeforeDeadline</c>: how long before the deadline (its local date counts when <see cref="AtLocalTime"/> is set). Default 0.</summary>
    public TimeSpan Before { get; set; }

    /// <summary>For <c>BeforeDeadline</c>: local time of day (<c>09:00</c>); empty means exactly deadline − <see cref="Before"/>.</summary>
    public string? AtLocalTime { get; set; }

    /// <summary>For <c>At</c>: the moment, written as the deadline is (wall-clock time in the campaign's zone, or an instant with its offset).</summary>
    public string? At { get; set; }

    /// <summary><c>Confirmed</c> or <c>NotDone</c>. Default: <c>Confirmed</c> for a launch mailing, <c>NotDone</c> for the others.</summary>
    public MailingAudience? Audience { get; set; }

    /// <summary>Whether those who confirm after the mailing was due still get it while it is open. Default: true for a launch mailing, false for the others.</summary>
    public bool? LateJoiners { get; set; }

    /// <summary>Today's three mailings, the default of a campaign that names none.</summary>
    public static Dictionary<string, MailingOptions> Standard() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["announcement"] = new() { When = MailingWhen.Launch },
        ["reminder-week"] = new() { Before = TimeSpan.FromDays(7), AtLocalTime = "09:00" },
        ["reminder-final"] = new() { Before = TimeSpan.Zero, AtLocalTime = "08:00" },
    };

    public MailingWhen WhenFor(string name) =>
        When ?? (string.Equals(name, "announcement", StringComparison.OrdinalIgnoreCase) ? MailingWhen.Launch
            : !string.IsNullOrWhiteSpace(At) ? MailingWhen.At : MailingWhen.BeforeDeadline);

    public MailingAudience AudienceFor(string name) =>
        Audience ?? (WhenFor(name) == MailingWhen.Launch ? MailingAudience.Confirmed : MailingAudience.NotDone);

    public bool LateJoinersFor(string name) => LateJoiners ?? WhenFor(name) == MailingWhen.Launch;

    /// <summary>What is wrong with this mailing's settings, each naming its key (<paramref name="key"/><c>:When</c>, ...).</summary>
    internal IEnumerable<string> Problems(string key, string name, TimeZoneInfo? zone)
    {
        if (!MailingName().IsMatch(name) || name.ToLowerInvariant() is Rendering.Mailings.Confirm or Rendering.Mailings.Invite)
        {
            yield return $"{key}: a mailing's name must be 1-63 lower-case letters, digits and hyphens (the name of its templates) and not 'confirm' or 'invite'.";
        }

        var when = WhenFor(name);
        if (Before < TimeSpan.Zero)
        {
            yield return $"{key}:Before must not be negative.";
        }

        if (!string.IsNullOrWhiteSpace(AtLocalTime) && !TimeOnly.TryParse(AtLocalTime, CultureInfo.InvariantCulture, out _))
        {
            yield return $"{key}:AtLocalTime '{AtLocalTime}' is not a time of day such as 09:00 (or empty).";
        }

        if (when == MailingWhen.At)
        {
            if (string.IsNullOrWhiteSpace(At))
            {
                yield return $"{key}:At is required when {key}:When is At, e.g. 2024-05-23T18:00.";
            }
            else if (zone is not null && !ZonedTime.TryParse(At, zone, $"{key}:At", out _, out var problem))
            {
                yield return problem!;
            }
        }
        else if (!string.IsNullOrWhiteSpace(At))
        {
            yield return $"{key}:At is only for When = At (this mailing's When is {when}).";
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex MailingName();
}
