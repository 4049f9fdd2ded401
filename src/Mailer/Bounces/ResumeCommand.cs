using Mailer.Campaigns;
using Mailer.Cli;

namespace Mailer.Bounces;

/// <summary><c>resume &lt;mailing&gt;</c>: continues a mailing the circuit breaker paused; its hard bounces count anew from now.</summary>
public sealed class ResumeCommand(MailingBreaker breaker, CampaignClock clock, CampaignCatalog catalog) : IOperatorCommand
{
    public string Verb => "resume";

    public string Usage => "resume <mailing> " + CampaignArgument.Usage;

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var mailing = arguments.Required(0, "mailing");
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        arguments.EnsureNoOthers(1);
        var scheduled = (await clock.MailingsAsync(campaign, cancellationToken)).FirstOrDefault(m => m.Mailing == mailing)
            ?? throw new UsageException($"No mailing '{mailing}' in the campaign {campaign.Name}.");

        var resumed = await breaker.ResumeAsync(scheduled.Key, cancellationToken);
        await output.WriteLineAsync(resumed ? $"{mailing}: resumed; the next dispatch sends the rest." : $"{mailing} was not paused.");
        return 0;
    }
}
