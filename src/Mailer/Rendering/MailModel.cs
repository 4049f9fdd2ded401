using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Mailer.Campaigns;
using Mailer.Hosting;
using Scriban.Runtime;

namespace Mailer.Rendering;

/// <summary>
/// Builds the variables the templates see (listed in <c>templates/README.md</c>), twice per mail: raw for the
/// subject and the text part, HTML-encoded for the HTML part. Every value that comes from outside the
/// templates — the subscriber's address, the configured sender and postal address, platform names, links —
/// reaches HTML only encoded, here, so no template can forget to escape it. What depends only on the
/// configuration (deadline, sender, address) is formatted and encoded once per locale.
/// </summary>
internal sealed class MailModel
{
    private static readonly HtmlEncoder HtmlEncoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>How each locale writes the deadline: „26. Mai 2024“, "26 May 2024".</summary>
    private static readonly Dictionary<string, (string Culture, string DatePattern)> DateFormats = new(StringComparer.Ordinal)
    {
        ["de"] = ("de-DE", "d. MMMM yyyy"),
        ["en"] = ("en-GB", "d MMMM yyyy"),
    };

    private static readonly Dictionary<string, string> PlatformLabels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["facebook"] = "Facebook",
        ["instagram"] = "Instagram",
    };

    private readonly TimeZoneInfo _zone;
    private readonly DateTimeOffset _deadline;
    private readonly DateOnly _lastDay;
    private readonly IReadOnlyList<string> _platforms;
    private readonly Dictionary<string, (ConstantValues Text, ConstantValues Html)> _constants = new(StringComparer.Ordinal);

    public MailModel(CampaignOptions campaign, MailerOptions mailer)
    {
        _zone = campaign.Zone;
        _deadline = campaign.DeadlineUtc;
        _lastDay = DateOnly.FromDateTime(campaign.DeadlineLocal);
        _platforms = campaign.Platforms.Keys.Select(p => p.ToLowerInvariant()).ToList();

        var sender = MimeKit.MailboxAddress.TryParse(mailer.From, out var from)
            ? (string.IsNullOrWhiteSpace(from.Name) ? from.Address : from.Name)
            : mailer.From;
        foreach (var locale in Mailings.Locales)
        {
            if (!DateFormats.TryGetValue(locale, out var format))
            {
                throw new InvalidOperationException($"No date format for the locale '{locale}'.");
            }

            var culture = CultureInfo.GetCultureInfo(format.Culture);
            var raw = new ConstantValues(
                OneLine(campaign.Name),
                OneLine(sender),
                OneLine(mailer.PostalAddress),
                campaign.DeadlineLocal.ToString(format.DatePattern, culture),
                campaign.DeadlineLocal.ToString("HH:mm", culture));
            _constants[locale] = (raw, raw.Encode(HtmlEncoder.Encode));
        }
    }

    /// <summary>The platforms of the campaign, in its configured order, lower case.</summary>
    public IReadOnlyList<string> Platforms => _platforms;

    /// <summary>The models of one mail: <paramref name="locale"/> and <paramref name="mailing"/> are known names.</summary>
    public (ScriptObject Text, ScriptObject Html) Create(string mailing, string locale, Recipient recipient, MailLinks links, DateTimeOffset now)
    {
        var (daysLeft, afterDeadline) = Day(now);
        var platforms = ChosenPlatforms(recipient, links);
        string? confirmUrl = null;
        if (Mailings.AsksToConfirm(mailing))
        {
            confirmUrl = OneLine(links.ConfirmUrl ?? throw new ArgumentException($"The {mailing} mail needs a ConfirmUrl.", nameof(links)));
        }

        var email = OneLine(recipient.Email);
        var unsubscribeUrl = OneLine(links.UnsubscribeUrl);
        var (text, html) = _constants[locale];
        return (
            Model(text, static s => s),
            Model(html, HtmlEncoder.Encode));

        ScriptObject Model(ConstantValues constants, Func<string, string> encode)
        {
            var list = new ScriptArray(platforms.Count);
            foreach (var (name, label, url, doneUrl) in platforms)
            {
                list.Add(new ScriptObject(4)
                {
                    ["name"] = encode(name),
                    ["label"] = encode(label),
                    ["url"] = encode(url),
                    ["done_url"] = encode(doneUrl),
                });
            }

            var model = new ScriptObject(20)
            {
                ["mailing"] = mailing,
                ["locale"] = encode(locale),
                ["campaign_name"] = constants.CampaignName,
                ["sender_name"] = constants.SenderName,
                ["postal_address"] = constants.PostalAddress,
                ["email"] = encode(email),
                ["deadline_date"] = constants.DeadlineDate,
                ["deadline_time"] = constants.DeadlineTime,
                ["days_left"] = daysLeft,
                ["after_deadline"] = afterDeadline,
                ["platforms"] = list,
                ["unsubscribe_url"] = encode(unsubscribeUrl),
            };
            if (confirmUrl is not null)
            {
                model["confirm_url"] = encode(confirmUrl);
            }

            return model;
        }
    }

    /// <summary>All the model takes from the time: two moments with the same day render the same mail.</summary>
    public (int DaysLeft, bool AfterDeadline) Day(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, _zone).DateTime);
        return (Math.Max(0, _lastDay.DayNumber - today.DayNumber), now > _deadline);
    }

    public static string HtmlEncode(string value) => HtmlEncoder.Encode(value);

    /// <summary>
    /// One line of text: control characters (CR, LF, tab, ...) and line separators become spaces, runs of
    /// white space one space, and the ends are trimmed. For subjects and for values from outside.
    /// </summary>
    public static string OneLine(string value)
    {
        if (IsOneLine(value))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool IsOneLine(string value)
    {
        if (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1])))
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c) || (char.IsWhiteSpace(c) && (c != ' ' || value[i - 1] == ' ')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The recipient's platforms that the campaign has, in the campaign's order, with their links.</summary>
    private List<(string Name, string Label, string Url, string DoneUrl)> ChosenPlatforms(Recipient recipient, MailLinks links)
    {
        var chosen = new List<(string, string, string, string)>(_platforms.Count);
        foreach (var platform in _platforms)
        {
            var given = recipient.Platforms.FirstOrDefault(p => string.Equals(p, platform, StringComparison.OrdinalIgnoreCase));
            if (given is null)
            {
                continue;
            }

            if (!links.PlatformUrls.TryGetValue(given, out var url) || !links.DoneUrls.TryGetValue(given, out var doneUrl))
            {
                throw new ArgumentException($"The links have no platform or done URL for '{given}'.", nameof(links));
            }

            var label = PlatformLabels.TryGetValue(platform, out var known) ? known : char.ToUpperInvariant(platform[0]) + platform[1..];
            chosen.Add((platform, label, OneLine(url), OneLine(doneUrl)));
        }

        return chosen;
    }

    private sealed record ConstantValues(string CampaignName, string SenderName, string PostalAddress, string DeadlineDate, string DeadlineTime)
    {
        public ConstantValues Encode(Func<string, string> encode) =>
            new(encode(CampaignName), encode(SenderName), encode(PostalAddress), encode(DeadlineDate), encode(DeadlineTime));
    }
}
