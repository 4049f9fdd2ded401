using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Delivery;
using Mailer.Hosting;
using Microsoft.Extensions.Options;

namespace Mailer.Rendering;

/// <summary><c>preview &lt;mailing&gt;</c>: writes the mail for a sample subscriber as .html, .txt and .eml, to look at before it goes out.</summary>
public sealed class PreviewCommand(Delivery.CampaignMails mails, CampaignCatalog catalog, TimeProvider time) : IOperatorCommand
{
    public string Verb => "preview";

    public string Usage => $"preview <mailing> {SampleRecipient.Usage} {CampaignArgument.Usage} [--out DIR]";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        var mailing = SampleRecipient.Mailing(arguments, campaign);
        var (recipient, now) = SampleRecipient.From(arguments, "beispiel@example.org", campaign, time);
        var folder = Path.GetFullPath(arguments.Option("out") ?? "preview");
        arguments.EnsureNoOthers(1);

        var message = mails.For(campaign.Name).Compose(mailing, recipient, now);
        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, $"{mailing}.{recipient.Locale}");
        await File.WriteAllTextAsync(stem + ".html", message.Rendered.Html, cancellationToken);
        await File.WriteAllTextAsync(stem + ".txt", message.Rendered.Text, cancellationToken);
        await File.WriteAllBytesAsync(stem + ".eml", message.ToBytes(eightBit: true), cancellationToken);

        await output.WriteLineAsync($"Subject: {message.Rendered.Subject}");
        foreach (var extension in new[] { ".html", ".txt", ".eml" })
        {
            await output.WriteLineAsync($"wrote {stem}{extension}");
        }

        return 0;
    }
}
