using System.Globalization;
using Mailer.Cli;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary><c>status</c>: per mailing, its due time and how many were sent, failed, skipped and are still queued.</summary>
public sealed class StatusCommand(CampaignClock clock, DeliveryLedger ledger, IOptions<CampaignOptions> options) : IOperatorCommand
{
    public string Verb => "status";

    public string Usage => "status";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        arguments.EnsureNoOthers(0);
        var zone = options.Value.Zone;
        var counts = (await ledger.CountsAsync(cancellationToken)).ToDictionary(c => c.Mailing);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{"mailing",-16} {"due (" + options.Value.TimeZone + ")",-26} {"recipients",10} {"sent",10} {"failed",8} {"skipped",8} {"queued",8}"));
        foreach (var mailing in await clock.MailingsAsync(cancellationToken))
        {
            var c = counts.GetValueOrDefault(mailing.Mailing) ?? new MailingCounts { Mailing = mailing.Mailing };
            var due = ZonedTime.ToLocal(mailing.Due, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{mailing.Mailing,-16} {due,-26} {c.Recipients,10} {c.Sent,10} {c.Failed,8} {c.Skipped,8} {c.Queued + c.Sending,8}"));
        }

        return 0;
    }
}
