using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// Every campaign of the configuration: one per <c>Campaigns:&lt;name&gt;</c> section, each with the engine's settings
/// of the <c>Campaign</c> section. The old form, a whole campaign in <c>Campaign</c> (<c>Campaign:Deadline</c>,
/// <c>Campaign:Platforms</c>, ...), still works: it is the campaign named <c>Campaign:Name</c> (default the only
/// <c>Campaigns</c> entry, or <c>meta-ai-objection</c>), laid over that entry when there is one.
/// </summary>
public sealed partial class CampaignCatalog
{
    public const string Section = "Campaigns";

    /// <summary>The keys of the <c>Campaign</c> section that describe a campaign rather than the engine.</summary>
    internal static readonly string[] CampaignKeys =
        ["Name", "Deadline", "TimeZone", "LaunchAt", "Platforms", "Mailings", "MinGapBetweenMails", "InviteStandingList", "Calendar"];

    private readonly Dictionary<string, CampaignOptions> _byName;

    public CampaignCatalog(IReadOnlyList<CampaignOptions> campaigns, string? defaultName, IReadOnlyList<string> oldFormKeys)
    {
        All = campaigns;
        _byName = campaigns.ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        Default = defaultName is not null && _byName.TryGetValue(defaultName, out var chosen) ? chosen : campaigns.Count == 1 ? campaigns[0] : null;
        OldFormKeys = oldFormKeys;
    }

    /// <summary>A catalog of the given campaigns, the first the default (for code that builds its campaigns itself).</summary>
    public static CampaignCatalog Of(params CampaignOptions[] campaigns) => new(campaigns, campaigns[0].Name, []);

    /// <summary>The campaigns, in the order of their names.</summary>
    public IReadOnlyList<CampaignOptions> All { get; }

    /// <summary>The campaign commands and requests mean when they name none: the only one, or the old form's; null with several.</summary>
    public CampaignOptions? Default { get; }

    /// <summary>The old form's campaign keys that are set (<c>Campaign:Deadline</c>, ...), for the warning at start.</summary>
    public IReadOnlyList<string> OldFormKeys { get; }

    public CampaignOptions? Find(string? name) => name is not null && _byName.TryGetValue(name, out var campaign) ? campaign : null;

    public CampaignOptions Get(string name) =>
        Find(name) ?? throw new ArgumentException($"'{name}' is not a campaign; configured: {Names}.", nameof(name));

    /// <summary>The names, for messages: <c>meta-ai-objection, tiktok-2025</c>.</summary>
    public string Names => string.Join(", ", All.Select(c => c.Name));

    /// <summary>Reads the campaigns from <paramref name="configuration"/> (the whole configuration, not a section).</summary>
    public static CampaignCatalog Read(IConfiguration configuration)
    {
        var engine = configuration.GetSection(CampaignOptions.Section);
        var oldForm = CampaignKeys.Where(k => engine.GetSection(k).Exists()).Select(k => $"{CampaignOptions.Section}:{k}").ToList();
        var named = configuration.GetSection(Section).GetChildren().Select(c => c.Key).ToList();
        var oldName = UpgradeName(configuration);
        if ((oldForm.Count > 0 || named.Count == 0) && !named.Contains(oldName, StringComparer.OrdinalIgnoreCase))
        {
            named.Add(oldName);
        }

        var campaigns = named
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .Select(name => Bind(configuration, name, overlayOldForm: string.Equals(name, oldName, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        return new CampaignCatalog(campaigns, oldForm.Count > 0 || named.Count == 1 ? oldName : null, oldForm);
    }

    /// <summary>
    /// The campaign of the old form, and the one a store from before several campaigns is upgraded into:
    /// <c>Campaign:Name</c>, else the only <c>Campaigns</c> entry, else <c>meta-ai-objection</c>.
    /// </summary>
    public static string UpgradeName(IConfiguration configuration)
    {
        var named = configuration.GetSection(Section).GetChildren().Select(c => c.Key).ToList();
        return configuration[$"{CampaignOptions.Section}:Name"] is { Length: > 0 } given ? given : named.Count == 1 ? named[0] : "meta-ai-objection";
    }

    private static CampaignOptions Bind(IConfiguration configuration, string name, bool overlayOldForm)
    {
        var section = configuration.GetSection($"{Section}:{name}");
        var campaign = new CampaignOptions { Name = name, Key = $"{Section}:{name}" };
        if (section.GetSection("Mailings").GetChildren().Any())
        {
            // A campaign that lists its mailings has those and no others.
            campaign.Mailings = new(StringComparer.OrdinalIgnoreCase);
        }

        section.Bind(campaign);
        var engine = configuration.GetSection(CampaignOptions.Section);
        if (overlayOldForm)
        {
            engine.Bind(campaign);
            campaign.Key = section.Exists() ? campaign.Key : CampaignOptions.Section;
            campaign.Name = engine["Name"] is { Length: > 0 } oldName ? oldName : name;
        }
        else
        {
            campaign.Name = name;
            var settings = engine.Get<CampaignOptions>() ?? new CampaignOptions();
            campaign.PollInterval = settings.PollInterval;
            campaign.BatchSize = settings.BatchSize;
            campaign.LeaseDuration = settings.LeaseDuration;
            campaign.MaxAttempts = settings.MaxAttempts;
            campaign.RetryBaseDelay = settings.RetryBaseDelay;
        }

        return campaign;
    }

    /// <summary>The campaigns of <paramref name="configuration"/>, checked: a wrong setting anywhere throws, naming each key.</summary>
    /// <exception cref="OptionsValidationException">A campaign's setting is wrong.</exception>
    public static CampaignCatalog ReadChecked(IConfiguration configuration)
    {
        var catalog = Read(configuration);
        return catalog.Problems() is { Count: > 0 } problems
            ? throw new OptionsValidationException(Options.DefaultName, typeof(CampaignOptions), problems)
            : catalog;
    }

    /// <summary>Every problem of every campaign, each naming its key; empty when all are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var campaign in All)
        {
            if (!CampaignName().IsMatch(campaign.Name))
            {
                var key = campaign.Key == CampaignOptions.Section ? $"{CampaignOptions.Section}:Name" : campaign.Key;
                problems.Add($"{key}: a campaign's name must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit, such as meta-ai-objection.");
                continue;
            }

            var results = new List<ValidationResult>();
            Validator.TryValidateObject(campaign, new ValidationContext(campaign), results, validateAllProperties: true);
            problems.AddRange(results.Select(r => r.ErrorMessage ?? $"{campaign.Key} is not valid."));
        }

        return problems.Distinct(StringComparer.Ordinal).ToList();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex CampaignName();
}

/// <summary>
/// Makes <c>IOptions&lt;CampaignOptions&gt;</c> the catalog's default campaign (with several and no default, the first:
/// only its engine settings are then meant). The catalog is checked where it is built (<see cref="CampaignCatalog.ReadChecked"/>),
/// so a wrong setting anywhere stops the start with messages naming the keys.
/// </summary>
internal sealed class CampaignOptionsFactory(CampaignCatalog catalog, ILogger<CampaignCatalog> logger) : IOptionsFactory<CampaignOptions>
{
    public CampaignOptions Create(string name)
    {
        if (catalog.OldFormKeys.Count > 0)
        {
            CampaignsLog.OldCampaignForm(logger, string.Join(", ", catalog.OldFormKeys), catalog.Default?.Name ?? "");
        }

        return catalog.Default ?? catalog.All[0];
    }
}
