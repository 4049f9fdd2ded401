using Mailer.Cli;

namespace Mailer.Campaigns;

/// <summary>The <c>--campaign NAME</c> every operator command takes: the only campaign when there is one.</summary>
public static class CampaignArgument
{
    public const string Usage = "[--campaign NAME]";

    /// <exception cref="UsageException">An unknown campaign, or several and none named.</exception>
    public static CampaignOptions Resolve(CommandArguments arguments, CampaignCatalog catalog)
    {
        if (arguments.Option("campaign") is { } name)
        {
            return catalog.Find(name) ?? throw new UsageException($"--campaign: no campaign '{name}'; configured: {catalog.Names}.");
        }

        return catalog.All.Count == 1 ? catalog.All[0]
            : throw new UsageException($"There are several campaigns ({catalog.Names}): name one with --campaign.");
    }
}
