using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;

namespace Mailer.Tests.Support;

/// <summary>Valid options for unit tests, as an operator would configure them; change what a test is about.</summary>
public static class TestOptions
{
    public const string FacebookForm = "https://www.facebook.com/help/contact/712876720715583";
    public const string InstagramForm = "https://help.instagram.com/contact/767264225370182";

    public static MailerOptions Mailer(Action<MailerOptions>? configure = null)
    {
        var options = new MailerOptions
        {
            PublicBaseUrl = "https://kampagne.example.org",
            From = "Meta-KI-Widerspruch <kampagne@example.org>",
            PostalAddress = "Verbraucherblog e. V., Musterstraße 1, 10115 Berlin",
            SigningKey = "test-signing-key-0123456789abcdef0123456789",
        };
        configure?.Invoke(options);
        return options;
    }

    public static CampaignOptions Campaign(Action<CampaignOptions>? configure = null)
    {
        var options = new CampaignOptions
        {
            Platforms = new(StringComparer.OrdinalIgnoreCase)
            {
                ["facebook"] = new PlatformOptions { FormUrl = FacebookForm },
                ["instagram"] = new PlatformOptions { FormUrl = InstagramForm },
            },
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A subscriber who chose both platforms.</summary>
    public static Recipient Recipient(long subscriberId = 42, string email = "anna@example.net", string locale = "de") =>
        new(subscriberId, email, locale, ["facebook", "instagram"]);
}
