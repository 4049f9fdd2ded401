using Mailer.Campaigns;
using Mailer.Cli;

namespace Mailer.Rendering;

/// <summary>The options <c>preview</c> and <c>send-test</c> share: language, platforms, and the moment to render for.</summary>
internal static class SampleRecipient
{
    public const string Usage = "[--locale de|en] [--platforms facebook,instagram] [--now DATETIME]";

    public static (Recipient Recipient, DateTimeOffset Now) From(CommandArguments arguments, string email, CampaignOptions campaign, TimeProvider time)
    {
        var locale = arguments.Option("locale") ?? "de";
        if (!Mailings.Locales.Contains(locale))
        {
            throw new UsageException($"--locale must be one of {string.Join(", ", Mailings.Locales)}.");
        }

        var platforms = (arguments.Option("platforms") ?? string.Join(',', campaign.Platforms.Keys))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.ToLowerInvariant())
            .ToList();
        var unknown = platforms.FirstOrDefault(p => !campaign.Platforms.ContainsKey(p));
        if (unknown is not null || platforms.Count == 0)
        {
            throw new UsageException($"--platforms takes a comma-separated list of {string.Join(", ", campaign.Platforms.Keys)}.");
        }

        var now = arguments.Instant("now", campaign.Zone) ?? time.GetUtcNow();

        var ordered = campaign.Platforms.Keys.Where(platforms.Contains).ToList();
        return (new Recipient(0, email, locale, ordered), now);
    }

    public static string Mailing(CommandArguments arguments, CampaignOptions campaign)
    {
        var mailing = arguments.Required(0, "mailing (" + string.Join(", ", campaign.Mails) + ")");
        return campaign.Mails.Contains(mailing)
            ? mailing
            : throw new UsageException($"Unknown mailing '{mailing}' of the campaign {campaign.Name}; one of {string.Join(", ", campaign.Mails)}.");
    }
}
