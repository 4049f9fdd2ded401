namespace Mailer.Campaigns;

/// <summary>Local wall-clock times of the campaign's zone as instants, defined also across daylight-saving changes.</summary>
public static class ZonedTime
{
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
}
