using System.Globalization;
using Mailer.Bounces;
using Mailer.Cli;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

/// <summary>
/// <c>status</c>: per mailing, its due time and how many were sent, failed, skipped and are still queued; then what came
/// back, with the hard-bounce and complaint rates and a warning above what the big mailbox providers tolerate.
/// </summary>
public sealed class StatusCommand(CampaignClock clock, DeliveryLedger ledger, BounceStore bounces, MailingBreaker breaker, CampaignCatalog catalog)
    : IOperatorCommand
{
    public string Verb => "status";

    public string Usage => "status " + CampaignArgument.Usage;

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        arguments.EnsureNoOthers(0);
        var zone = campaign.Zone;
        var counts = (await ledger.CountsAsync(cancellationToken)).Where(c => c.Campaign == campaign.Name).ToDictionary(c => c.Mailing);
        var mailings = await clock.MailingsAsync(campaign, cancellationToken);
        await output.WriteLineAsync($"campaign {campaign.Name}, deadline {ZonedTime.ToLocal(campaign.DeadlineUtc, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {campaign.TimeZone}");
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{"mailing",-16} {"due (" + campaign.TimeZone + ")",-26} {"recipients",10} {"sent",10} {"failed",8} {"skipped",8} {"queued",8}"));
        foreach (var mailing in mailings)
        {
            var c = counts.GetValueOrDefault(mailing.Mailing) ?? new MailingCounts { Mailing = mailing.Mailing };
            var due = ZonedTime.ToLocal(mailing.Due, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{mailing.Mailing,-16} {due,-26} {c.Recipients,10} {c.Sent,10} {c.Failed,8} {c.Skipped,8} {c.Queued + c.Sending,8}"));
        }

        await WriteBouncesAsync(output, cancellationToken);
        foreach (var mailing in mailings)
        {
            if (await breaker.PausedAsync(mailing.Key, cancellationToken) is { } reason)
            {
                await output.WriteLineAsync($"PAUSED: {mailing.Mailing} since {reason}; 'resume {mailing.Mailing} --campaign {campaign.Name}' continues it.");
            }
        }

        return 0;
    }

    /// <summary>Hard bounces above this share of the messages tried: the list is old or bought (Gmail's and Yahoo's guidance).</summary>
    internal const double HardBounceWarning = 0.02;

    /// <summary>Complaints above this share: Gmail's Postmaster Tools advise staying below 0.1 % and reject above 0.3 %.</summary>
    internal const double ComplaintWarning = 0.001;

    private async Task WriteBouncesAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var counts = await bounces.CountsAsync(cancellationToken);
        if (counts.Count == 0)
        {
            return;
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync($"{"mailing",-16} {"tried",10} {"hard",8} {"hard %",8} {"soft",8} {"complaints",10} {"compl. %",8} {"policy",8} {"auto-repl.",10}");
        var warnings = new List<string>();
        foreach (var c in counts.OrderBy(c => c.Mailing, StringComparer.Ordinal))
        {
            var hardRate = c.Attempted == 0 ? 0 : (double)c.Hard / c.Attempted;
            var complaintRate = c.Attempted == 0 ? 0 : (double)c.Complaints / c.Attempted;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{c.Mailing,-16} {c.Attempted,10} {c.Hard,8} {hardRate,8:P2} {c.Soft,8} {c.Complaints,10} {complaintRate,8:P2} {c.Policy,8} {c.AutoReplies,10}"));
            if (hardRate > HardBounceWarning)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"WARNING: {c.Mailing}: {hardRate:P2} hard bounces, above {HardBounceWarning:P0}: remove old addresses before the next mailing."));
            }

            if (complaintRate > ComplaintWarning)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"WARNING: {c.Mailing}: {complaintRate:P2} complaints, above {ComplaintWarning:P1}: receivers will move the mail to spam or refuse it."));
            }

            if (c.Policy > 0)
            {
                warnings.Add($"WARNING: {c.Mailing}: {c.Policy} refused for policy (5.7.x): check DKIM, SPF, DMARC and whether the sending IP is listed.");
            }
        }

        foreach (var warning in warnings)
        {
            await output.WriteLineAsync(warning);
        }
    }
}
