using Mailer.Hosting;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Bounces;

/// <summary>
/// Checks the <c>Bounces</c> section at start: a return path that is one plain address of the sender's organisational
/// domain (else SPF fails DMARC's alignment and filters mark the mail), a mailbox with its login, a poll interval the
/// scheduler can keep. Every message names the key.
/// </summary>
public sealed class BouncesOptionsValidator(IOptions<MailerOptions> mailer) : IValidateOptions<BouncesOptions>
{
    public ValidateOptionsResult Validate(string? name, BouncesOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ReturnPath) && ReturnPathError(options.ReturnPath.Trim(), mailer.Value.From) is { } error)
        {
            failures.Add(error);
        }

        if (!options.PollIntervalIsWholeDivisor)
        {
            failures.Add("Bounces:PollInterval must be whole seconds dividing a minute (00:00:10) or whole minutes dividing an hour (00:05:00).");
        }

        if (!string.IsNullOrEmpty(options.Webhook.Secret) && options.Webhook.Secret.Length < 32)
        {
            failures.Add("Bounces:Webhook:Secret must be at least 32 characters.");
        }

        if (!string.IsNullOrEmpty(options.Webhook.Secret) && string.IsNullOrWhiteSpace(options.ReturnPath))
        {
            failures.Add("Bounces:Webhook:Secret is set but Bounces:ReturnPath is not: the webhook names messages by their tag.");
        }

        var imap = options.Imap;
        if (imap.IsConfigured)
        {
            if (string.IsNullOrWhiteSpace(options.ReturnPath))
            {
                failures.Add("Bounces:Imap:Host is set but Bounces:ReturnPath is not: without tagged envelope senders no report names its recipient.");
            }

            if (Uri.CheckHostName(imap.Host!.Trim()) == UriHostNameType.Unknown)
            {
                failures.Add("Bounces:Imap:Host must be a host name or an IP address.");
            }

            if (string.IsNullOrEmpty(imap.Username) || string.IsNullOrEmpty(imap.Password))
            {
                failures.Add("Bounces:Imap:Username and Bounces:Imap:Password are required with Bounces:Imap:Host.");
            }

            if (string.IsNullOrWhiteSpace(imap.Folder))
            {
                failures.Add("Bounces:Imap:Folder must name a folder (default INBOX).");
            }

            if (imap.Timeout <= TimeSpan.Zero || imap.Timeout > TimeSpan.FromMinutes(10))
            {
                failures.Add("Bounces:Imap:Timeout must be between 00:00:01 and 00:10:00.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Null when <paramref name="returnPath"/> is a plain address without a tag delimiter in the organisational domain of <paramref name="from"/>.</summary>
    internal static string? ReturnPathError(string returnPath, string? from)
    {
        if (!MailboxAddress.TryParse(returnPath, out var mailbox) || mailbox.Address != returnPath || !returnPath.Contains('@')
            || returnPath.Any(char.IsControl) || returnPath.Any(char.IsWhiteSpace))
        {
            return $"Bounces:ReturnPath must be a plain address such as bounces@example.org, without a display name.";
        }

        if (mailbox.LocalPart.Contains('+') || mailbox.LocalPart.Length > 30)
        {
            return "Bounces:ReturnPath's local part must be at most 30 characters without '+': '+' starts the tag (bounces+tag@...).";
        }

        if (string.IsNullOrWhiteSpace(from) || !MailboxAddress.TryParse(from, out var sender) || !sender.Address.Contains('@'))
        {
            // Mailer:From's own validation reports it.
            return null;
        }

        var returnDomain = OrganisationalDomain.Of(mailbox.Domain);
        var fromDomain = OrganisationalDomain.Of(sender.Domain);
        return returnDomain == fromDomain
            ? null
            : $"Bounces:ReturnPath's domain '{mailbox.Domain}' is not in the organisational domain of Mailer:From ('{sender.Domain}'): SPF would not align with From for DMARC.";
    }
}

/// <summary>
/// The organisational domain as DMARC means it, closely enough for a sender's own domains without the public suffix
/// list: the last two labels, or three under a two-letter country domain whose second level is a generic one
/// (<c>example.co.uk</c>, <c>example.com.au</c>).
/// </summary>
internal static class OrganisationalDomain
{
    private static readonly HashSet<string> GenericSecondLevel = ["co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "gv", "gob"];

    public static string Of(string domain)
    {
        var labels = domain.TrimEnd('.').ToLowerInvariant().Split('.');
        if (labels.Length <= 2)
        {
            return string.Join('.', labels);
        }

        var take = labels[^1].Length == 2 && GenericSecondLevel.Contains(labels[^2]) ? 3 : 2;
        return string.Join('.', labels[^take..]);
    }
}
