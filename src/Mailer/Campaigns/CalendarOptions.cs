using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailer.Campaigns;

/// <summary>
/// The words of a campaign's calendar file (the deadline as an event, attached to its launch mailing), from
/// <c>Campaigns:&lt;name&gt;:Calendar</c>. Every campaign has its own deadline and its own platform, so none of these
/// defaults to another campaign's words.
/// </summary>
public sealed partial class CalendarOptions
{
    /// <summary>The placeholder in <see cref="Text"/> for the deadline: <c>26.05.2024, 23:59 Uhr (Europe/Berlin)</c>.</summary>
    public const string DeadlinePlaceholder = "{deadline}";

    /// <summary>The event's title, one line of at most 200 characters. Default <c>Frist: &lt;campaign name&gt;</c>.</summary>
    public string? Title { get; set; }

    /// <summary>
    /// The event's text, at most 1,000 characters; <c>{deadline}</c> becomes the deadline as the campaign's clocks show
    /// it. Each platform's form follows on a line of its own. Default <c>Frist: {deadline}.</c>
    /// </summary>
    public string? Text { get; set; }

    /// <summary>The file's name in the mail: letters, digits, <c>.</c>, <c>_</c> and <c>-</c>, ending in <c>.ics</c>. Default <c>frist-&lt;campaign name&gt;.ics</c>.</summary>
    public string? FileName { get; set; }

    internal string TitleFor(string campaign) => string.IsNullOrWhiteSpace(Title) ? $"Frist: {campaign}" : Title.Trim();

    internal string FileNameFor(string campaign) => string.IsNullOrWhiteSpace(FileName) ? $"frist-{campaign}.ics" : FileName.Trim();

    /// <summary>The event's text for a deadline at <paramref name="local"/> in <paramref name="zone"/>.</summary>
    internal string TextFor(DateTime local, string zone)
    {
        var deadline = local.ToString("dd.MM.yyyy, HH:mm 'Uhr'", CultureInfo.GetCultureInfo("de-DE")) + $" ({zone})";
        var text = string.IsNullOrWhiteSpace(Text) ? "Frist: " + DeadlinePlaceholder + "." : Text.Trim();
        return text.Replace(DeadlinePlaceholder, deadline, StringComparison.Ordinal);
    }

    /// <summary>What is wrong with these settings, each naming its key under <paramref name="key"/>.</summary>
    internal IEnumerable<string> Problems(string key)
    {
        if (Title is { } title && (title.Length > 200 || title.Any(char.IsControl)))
        {
            yield return $"{key}:Title must be one line of at most 200 characters.";
        }

        if (Text is { } text && (text.Length > 1000 || text.Any(c => char.IsControl(c) && c != '\n')))
        {
            yield return $"{key}:Text must be at most 1000 characters, with no control characters but line breaks.";
        }

        if (!string.IsNullOrWhiteSpace(FileName) && !SafeFileName().IsMatch(FileName.Trim()))
        {
            yield return $"{key}:FileName must be letters, digits, '.', '_' and '-', at most 100 characters, ending in .ics (e.g. frist-widerspruch.ics).";
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\.ics$")]
    private static partial Regex SafeFileName();
}
