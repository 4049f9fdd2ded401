using Mailer.Cli;
using Mailer.Signups;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// <c>timeline [--email ADDRESS] [--now DATETIME]</c>: each mailing's due time, local and UTC; for one subscriber also
/// what they received (time and server reply) and what they will receive, or why not.
/// </summary>
public sealed class TimelineCommand(SubscriberTimeline timeline, CampaignCatalog catalog, TimeProvider time)
    : IOperatorCommand
{
    public string Verb => "timeline";

    public string Usage => "timeline [--email ADDRESS] [--now DATETIME] " + CampaignArgument.Usage + "   (DATETIME wall-clock time in the campaign's TimeZone, e.g. 2024-05-20T10:00, or with an offset, e.g. 2024-05-20T08:00Z)";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        var email = arguments.Option("email");
        var given = arguments.Instant("now", campaign.Zone);
        arguments.EnsureNoOthers(0);

        var now = given ?? time.GetUtcNow();
        string Local(DateTimeOffset instant) => SubscriberTimeline.Local(campaign, instant);
        await output.WriteLineAsync($"deadline         {Local(campaign.DeadlineUtc)}  ({SubscriberTimeline.Utc(campaign.DeadlineUtc)})");
        foreach (var mailing in await timeline.MailingsAsync(campaign, cancellationToken))
        {
            var ends = mailing.Ends is { } e ? $", until {Local(e)}" : "";
            await output.WriteLineAsync($"{mailing.Mailing,-16} {Local(mailing.Due)}  ({SubscriberTimeline.Utc(mailing.Due)}){ends}");
        }

        if (email is null)
        {
            return 0;
        }

        if (EmailAddress.Normalize(email, out var normalized) != EmailProblem.None)
        {
            throw new UsageException($"--email '{email}' is not a mail address.");
        }

        if (await timeline.ForAsync(campaign, normalized, now, cancellationToken) is not { } view)
        {
            await output.WriteLineAsync("No subscriber with that address.");
            return 1;
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync(view.Summary);
        if (view.Stopped is not null)
        {
            await output.WriteLineAsync($"  {view.Stopped}");
        }

        foreach (var (mailing, explanation) in view.Mailings)
        {
            await output.WriteLineAsync($"  {mailing,-16} {explanation}");
        }

        foreach (var report in view.Reports)
        {
            await output.WriteLineAsync($"  {"came back",-16} {report}");
        }

        return 0;
    }
}
