using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Rendering;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Delivery;

/// <summary><c>send-test &lt;mailing&gt; --to ADDRESS</c>: renders one mail and sends it through the configured transport, printing the reply.</summary>
public sealed class SendTestCommand(CampaignMails mails, CampaignCatalog catalog, IMailTransport transport, TimeProvider time)
    : IOperatorCommand
{
    public string Verb => "send-test";

    public string Usage => $"send-test <mailing> --to ADDRESS {SampleRecipient.Usage} {CampaignArgument.Usage}";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        var mailing = SampleRecipient.Mailing(arguments, campaign);
        var to = arguments.Option("to") ?? throw new UsageException("Missing --to ADDRESS.");
        if (!MailboxAddress.TryParse(to, out var address) || !string.IsNullOrEmpty(address.Name) || to.Any(char.IsControl))
        {
            throw new UsageException($"--to '{to}' is not a plain mail address.");
        }

        var (recipient, now) = SampleRecipient.From(arguments, address.Address, campaign, time);
        arguments.EnsureNoOthers(1);

        var message = mails.For(campaign.Name).Compose(mailing, recipient, now);
        await using var connection = await transport.OpenAsync(cancellationToken);
        var result = await connection.SendAsync(message, cancellationToken);
        await output.WriteLineAsync($"{transport.Describe()}: {result.Outcome}: {result.Reply}");
        return result.IsAccepted ? 0 : 1;
    }
}
