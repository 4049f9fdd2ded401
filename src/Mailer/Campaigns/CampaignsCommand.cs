using System.Globalization;
using Mailer.Cli;

namespace Mailer.Campaigns;

/// <summary>
/// <c>campaigns</c>: each campaign with its state (upcoming before its launch, open until its deadline, past deadline
/// after it) and its mailings' due times in the campaign's zone.
/// </summary>
public sealed class CampaignsCommand(CampaignCatalog catalog, CampaignClock clock, TimeProvider time) : IOperatorCommand
{
    public string Verb => "campaigns";

    public string Usage => "campaigns";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        arguments.EnsureNoOthers(0);
        var now = time.GetUtcNow();
        foreach (var campaign in catalog.All)
        {
            var mailings = await clock.MailingsAsync(campaign, cancellationToken);
            var launch = mailings.Where(m => m.When == MailingWhen.Launch).Select(m => (DateTimeOffset?)m.Due).Min() ?? campaign.LaunchAtUtc;
            var state = now > campaign.DeadlineUtc ? "past deadline" : launch is { } l && now < l ? "upcoming" : "open";
            await output.WriteLineAsync($"{campaign.Name}: {state}, deadline {SubscriberTimeline.Local(campaign, campaign.DeadlineUtc)}");
            foreach (var mailing in mailings)
            {
                var audience = mailing.Audience == MailingAudience.NotDone ? "not done" : "confirmed";
                var late = mailing.LateJoiners ? ", late joiners too" : "";
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {mailing.Mailing,-20} {mailing.When,-15} {SubscriberTimeline.Local(campaign, mailing.Due)}  to {audience}{late}"));
            }
        }

        return 0;
    }
}
