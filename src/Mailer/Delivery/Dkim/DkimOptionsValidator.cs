using Mailer.Hosting;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// Checks the <c>Dkim</c> section at start: all settings or none, the domain aligned with <c>Mailer:From</c>
/// (DMARC compares the two), and each key file readable, a private key, and strong enough. Every message names
/// the setting and the file.
/// </summary>
public sealed class DkimOptionsValidator(IOptions<MailerOptions> mailer, IHostEnvironment environment) : IValidateOptions<DkimOptions>
{
    public ValidateOptionsResult Validate(string? name, DkimOptions options)
    {
        if (!options.IsEnabled)
        {
            return options.HasEd25519
                ? ValidateOptionsResult.Fail("Dkim:Ed25519Selector and Dkim:Ed25519PrivateKeyPath sign alongside the RSA key: set Dkim:Domain, Dkim:Selector and Dkim:PrivateKeyPath too.")
                : ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        foreach (var (key, value) in new[] { ("Dkim:Domain", options.Domain), ("Dkim:Selector", options.Selector), ("Dkim:PrivateKeyPath", options.PrivateKeyPath) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{key} is required when signing (set Dkim:Domain, Dkim:Selector and Dkim:PrivateKeyPath together, or none).");
            }
        }

        if (failures.Count == 0)
        {
            if (AlignmentError(options.NormalizedDomain, mailer.Value.From) is { } alignment)
            {
                failures.Add(alignment);
            }

            var rsa = DkimKeys.ReadRsa("Dkim:PrivateKeyPath", KeyPath(options.PrivateKeyPath!));
            rsa.Key?.Dispose();
            if (rsa.Error is not null)
            {
                failures.Add(rsa.Error);
            }
        }

        if (options.HasEd25519)
        {
            if (string.IsNullOrWhiteSpace(options.Ed25519Selector) || string.IsNullOrWhiteSpace(options.Ed25519PrivateKeyPath))
            {
                failures.Add("Dkim:Ed25519Selector and Dkim:Ed25519PrivateKeyPath must be set together, or both left empty.");
            }
            else if (string.Equals(options.Ed25519Selector.Trim(), options.Selector?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                failures.Add("Dkim:Ed25519Selector must differ from Dkim:Selector: each key is published under its own selector.");
            }
            else if (DkimKeys.ReadEd25519("Dkim:Ed25519PrivateKeyPath", KeyPath(options.Ed25519PrivateKeyPath)).Error is { } error)
            {
                failures.Add(error);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>A key path from the configuration, absolute or relative to the content root.</summary>
    public string KeyPath(string configured) => ContentRoot.Combine(environment.ContentRootPath, configured.Trim());

    /// <summary>
    /// Null when <paramref name="domain"/> is From's domain or a parent of it (relaxed DMARC alignment, the default:
    /// <c>example.org</c> signs for <c>news.example.org</c>); a parent needs two labels, so <c>org</c> never passes.
    /// </summary>
    internal static string? AlignmentError(string domain, string? from)
    {
        if (string.IsNullOrWhiteSpace(from) || !MailboxAddress.TryParse(from, out var mailbox) || !mailbox.Address.Contains('@'))
        {
            // Mailer:From's own validation reports it.
            return null;
        }

        var fromDomain = mailbox.Domain.TrimEnd('.').ToLowerInvariant();
        var aligned = domain.Contains('.')
            && (fromDomain == domain || fromDomain.EndsWith("." + domain, StringComparison.Ordinal));
        return aligned
            ? null
            : $"Dkim:Domain '{domain}' is neither the domain of Mailer:From ('{fromDomain}') nor a parent of it: receivers would not count the signature for DMARC.";
    }
}
