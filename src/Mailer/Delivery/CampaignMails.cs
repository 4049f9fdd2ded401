using System.Collections.Concurrent;
using Mailer.Campaigns;
using Mailer.Links;
using Mailer.Rendering;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Delivery;

/// <summary>
/// The mail of each campaign: its own templates (<c>templates/&lt;campaign&gt;/</c>), renderer, message factory and
/// links, built from the campaign's settings on first use (the start builds them all, so a broken template of any
/// campaign stops it). The default campaign's are the ones registered in the container.
/// </summary>
public sealed class CampaignMails(CampaignCatalog catalog, IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, Lazy<MailComposer>> _composers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The composer of <paramref name="campaign"/>.</summary>
    /// <exception cref="ArgumentException">No such campaign.</exception>
    public MailComposer For(string campaign) =>
        _composers.GetOrAdd(catalog.Get(campaign).Name, name => new Lazy<MailComposer>(() => Build(catalog.Get(name)))).Value;

    /// <summary>Builds every campaign's composer (and so loads and tries every template).</summary>
    public void BuildAll()
    {
        foreach (var campaign in catalog.All)
        {
            For(campaign.Name);
        }
    }

    private MailComposer Build(CampaignOptions campaign)
    {
        if (ReferenceEquals(campaign, catalog.Default))
        {
            return services.GetRequiredService<MailComposer>();
        }

        var options = Options.Create(campaign);
        var renderer = ActivatorUtilities.CreateInstance<TemplateRenderer>(services, options);
        var factory = ActivatorUtilities.CreateInstance<MessageFactory>(services, options);
        var links = ActivatorUtilities.CreateInstance<LinkBuilder>(services, options);
        links.ConfirmWithin = services.GetRequiredService<LinkBuilder>().ConfirmWithin;
        return new MailComposer(renderer, factory, links);
    }
}
