using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Hosting;
using Mailer.Pages;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;
using Scriban.Runtime;

namespace Mailer.Signups.Embedding;

/// <summary>
/// <c>embed</c>: prints the signup form to paste into a blog article (<c>templates/pages/embed.{locale}.html.sbn</c>):
/// plain HTML without script or styles of Mailer's, posting to <c>Mailer:PublicBaseUrl</c>/subscribe, with the
/// campaign's platforms, the language, the honeypot (hidden by an inline style, since the blog has no class for it)
/// and the consent text. Paste it again after editing the consent text, so the article shows what consents record.
/// </summary>
public sealed class EmbedCommand(PageRenderer pages, SignupOrigins origins, IOptions<MailerOptions> mailer,
    IOptions<CampaignOptions> campaign, IOptions<SubscribersOptions> subscribers) : IOperatorCommand
{
    public string Verb => "embed";

    public string Usage => "embed [--locale de|en] [--return-url URL]";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var localeText = arguments.Option("locale");
        var locale = localeText is null ? subscribers.Value.DefaultLocale : RequestLocale.Parse(localeText)
            ?? throw new UsageException($"--locale must be de or en, not '{localeText}'.");
        var returnUrl = arguments.Option("return-url");
        arguments.EnsureNoOthers(0);
        if (returnUrl is not null && origins.ReturnLink(returnUrl, null) is null)
        {
            throw new UsageException($"--return-url must be an http(s) address on an origin in Subscribers:AllowedOrigins "
                + $"(now: {(origins.Allowed.Count == 0 ? "none" : string.Join(", ", origins.Allowed))}); the page would drop it.");
        }

        var values = new ScriptObject();
        pages.AddCommonValues(values, locale);
        values["action"] = mailer.Value.PublicBaseUrl.TrimEnd('/') + "/subscribe";
        values["platforms"] = campaign.Value.Platforms.Keys
            .Select(p => new ScriptObject { ["name"] = p, ["label"] = SignupApi.PlatformLabel(p) }).ToList();
        values["honeypot_field"] = SignupApi.HoneypotField;
        values["return_url"] = returnUrl is null ? null : origins.ReturnLink(returnUrl, null);
        values["consent_version"] = pages.ConsentTextVersion(locale);
        await output.WriteLineAsync(pages.RenderFragment("embed", locale, values).Trim().AsMemory(), cancellationToken);
        return 0;
    }
}
