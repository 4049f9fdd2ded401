using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailer.Campaigns;

/// <summary>Local wall-clock times of the campaign's zone as instants, defined also across daylight-saving changes.</summary>
public static partial class ZonedTime
{
    /// <summary>
    /// Reads a moment as an operator writes it (<c>Campaign:Deadline</c>, <c>Campaign:LaunchAt</c>, <c>--now</c>): an ISO
    /// 8601 date and time (<c>T</c> or a space between them, seconds and fractions optional), either with an offset
    /// (<c>2024-05-26T21:59:59Z</c>, <c>2024-05-26T23:59:59+02:00</c>): that instant, or without one
    /// (<c>2024-05-26T23:59:59</c>): the wall-clock time in <paramref name="zone"/>. The machine's own zone plays no part.
    /// Refused, with a message naming <paramref name="key"/>, is whatever could mean two moments: another format (a date
    /// alone, <c>26.05.2024</c>, <c>05/06/2024</c>), and a wall-clock time that occurs twice in <paramref name="zone"/>
    /// (the night the clocks go back) or not at all (the night they skip forward).
    /// </summary>
    public static bool TryParse(string? text, TimeZoneInfo zone, string key, out DateTimeOffset instant, out string? problem)
    {
        instant = default;
        problem = null;
        var trimmed = text?.Trim() ?? "";
        var match = IsoDateTime().Match(trimmed);
        if (!match.Success)
        {
            problem = $"{key} '{text}' is not a date and time such as 2024-05-26T23:59:59 (wall-clock time in {zone.Id}) "
                + "or 2024-05-26T21:59:59Z or 2024-05-26T23:59:59+02:00 (an instant).";
            return false;
        }

        var iso = (match.Groups["datetime"].Value + match.Groups["offset"].Value).ToUpperInvariant().Replace(' ', 'T');
        if (match.Groups["offset"].Success)
        {
            if (DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant))
            {
                return true;
            }
        }
        else if (DateTime.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            if (zone.IsAmbiguousTime(local))
            {
                var offsets = zone.GetAmbiguousTimeOffsets(local).Order().Select(Offset);
                problem = $"{key} '{text}' occurs twice in {zone.Id} (the clocks go back that night); add the offset meant: {string.Join(" or ", offsets)}.";
                return false;
            }

            if (zone.IsInvalidTime(local))
            {
                problem = $"{key} '{text}' does not exist in {zone.Id} (the clocks skip it that night); give another time or an offset.";
                return false;
            }

            instant = new DateTimeOffset(local, zone.GetUtcOffset(local));
            return true;
        }

        problem = $"{key} '{text}' is not a date of the calendar.";
        return false;
    }

    /// <summary>
    /// The instant at which the clocks in <paramref name="zone"/> show <paramref name="local"/>. A time that does not
    /// exist (skipped in spring) moves forward by the gap, as a wall clock does; a time that exists twice (autumn)
    /// is taken at its first occurrence, so nothing goes out an hour late.
    /// </summary>
    public static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            var before = zone.GetUtcOffset(local.AddHours(-3));
            var after = zone.GetUtcOffset(local.AddHours(3));
            return new DateTimeOffset(local + (after - before), after);
        }

        if (zone.IsAmbiguousTime(local))
        {
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            return new DateTimeOffset(local, offsets.Max());
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The wall-clock time in <paramref name="zone"/> at <paramref name="instant"/>.</summary>
    public static DateTime ToLocal(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).DateTime;

    private static string Offset(TimeSpan offset) => (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString(@"hh\:mm", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?<datetime>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)(?<offset>[Zz]|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
