using System.Globalization;
using System.Text;
using Ical.Net;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Serialization;
using Mailer.Campaigns;
using MimeKit;
using Calendar = Ical.Net.Calendar;

namespace Mailer.Delivery;

/// <summary>
/// The deadline as an iCalendar file (<c>text/calendar; method=PUBLISH</c>): one event at the deadline with a
/// reminder a day before. It is the same for every subscriber, so it is serialized once, on first use, and each
/// message gets a part over the same bytes.
/// </summary>
internal sealed class DeadlineCalendar
{
    private readonly Lazy<(byte[] Bytes, ContentEncoding Encoding)> _file;

    private readonly Lazy<byte[]> _part;

    private readonly string _fileName;

    public DeadlineCalendar(CampaignOptions campaign, string senderDomain, TimeProvider time)
    {
        _fileName = campaign.Calendar.FileNameFor(campaign.Name);
        _file = new(() => Build(campaign, senderDomain, time), LazyThreadSafetyMode.ExecutionAndPublication);
        _part = new(() =>
        {
            var format = FormatOptions.Default.Clone();
            format.NewLineFormat = NewLineFormat.Dos;
            format.EnsureNewLine = true;
            using var part = CreatePart();
            using var stream = new MemoryStream();
            part.WriteTo(format, stream);
            return stream.ToArray();
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The whole part as bytes (its header, the blank line, the encoded file), built once.</summary>
    public byte[] PartBytes => _part.Value;

    public MimePart CreatePart()
    {
        var (bytes, encoding) = _file.Value;
        var type = new ContentType("text", "calendar") { Charset = "utf-8" };
        type.Parameters.Add("method", "PUBLISH");
        return new MimePart(type)
        {
            // A read-only view of the shared bytes: nothing is copied per message.
            Content = new MimeContent(new MemoryStream(bytes, writable: false)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) { FileName = _fileName },
            ContentTransferEncoding = encoding,
        };
    }

    private static (byte[], ContentEncoding) Build(CampaignOptions campaign, string senderDomain, TimeProvider time)
    {
        var deadline = campaign.DeadlineUtc;
        var description = new StringBuilder(campaign.Calendar.TextFor(campaign.DeadlineLocal, campaign.TimeZone));
        foreach (var (platform, options) in campaign.Platforms)
        {
            description.Append(CultureInfo.InvariantCulture, $"\n{char.ToUpperInvariant(platform[0])}{platform[1..]}: {options.FormUrl}");
        }

        var deadlineEvent = new CalendarEvent
        {
            Uid = $"deadline.{campaign.Name}@{senderDomain}",
            DtStamp = new CalDateTime(time.GetUtcNow().UtcDateTime, CalDateTime.UtcTzId),
            DtStart = new CalDateTime(deadline.UtcDateTime, CalDateTime.UtcTzId),
            Summary = campaign.Calendar.TitleFor(campaign.Name),
            Description = description.ToString(),
        };
        deadlineEvent.Alarms.Add(new Alarm
        {
            Action = AlarmAction.Display,
            Description = deadlineEvent.Summary,
            Trigger = new Trigger(Duration.FromDays(-1)),
        });

        var calendar = new Calendar { ProductId = $"-//{senderDomain}//{campaign.Name}//DE", Method = CalendarMethods.Publish };
        calendar.Events.Add(deadlineEvent);
        var bytes = Encoding.UTF8.GetBytes(new CalendarSerializer().SerializeToString(calendar)!);

        using var probe = new MimePart("text", "calendar") { Content = new MimeContent(new MemoryStream(bytes, writable: false)) };
        return (bytes, probe.GetBestEncoding(EncodingConstraint.SevenBit));
    }
}
