using System.ComponentModel.DataAnnotations;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// The <c>Dkim</c> section: who signs the mails (RFC 6376). Off while <see cref="Domain"/>, <see cref="Selector"/>
/// and <see cref="PrivateKeyPath"/> are all empty; set all three to sign every message with RSA-SHA256, and
/// optionally <see cref="Ed25519Selector"/> with <see cref="Ed25519PrivateKeyPath"/> to add an Ed25519 signature
/// (RFC 8463) alongside. <c>mailer dkim-keygen --selector S</c> writes a key and prints the DNS record to publish.
/// The keys are read and checked at start (see <see cref="DkimOptionsValidator"/>).
/// </summary>
public sealed class DkimOptions
{
    public const string Section = "Dkim";

    private const string DomainPattern = @"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$";
    private const string SelectorPattern = @"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

    /// <summary>
    /// The signing domain (<c>d=</c>): the domain of <c>Mailer:From</c> or a parent of it, so that DMARC finds the
    /// signature aligned (<c>example.org</c> for <c>kampagne@example.org</c> or <c>kampagne@news.example.org</c>).
    /// Default empty: no signing.
    /// </summary>
    [RegularExpression(DomainPattern, ErrorMessage = "Dkim:Domain must be a domain such as example.org.")]
    public string? Domain { get; set; }

    /// <summary>
    /// The selector (<c>s=</c>) of the RSA key: its public half is published at
    /// <c>&lt;Selector&gt;._domainkey.&lt;Domain&gt;</c>. Default empty. A new selector per key makes a key change safe.
    /// </summary>
    [RegularExpression(SelectorPattern, ErrorMessage = "Dkim:Selector must be letters, digits and hyphens, such as mailer2024.")]
    public string? Selector { get; set; }

    /// <summary>
    /// The RSA private key (PEM, PKCS#1 or PKCS#8, not encrypted; at least 2048 bits), absolute or relative to the
    /// content root. Default empty. Keep it readable by the service only (<c>dkim-keygen</c> writes it with mode 0600).
    /// </summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The selector of the optional Ed25519 key, different from <see cref="Selector"/>. Default empty: RSA only.</summary>
    [RegularExpression(SelectorPattern, ErrorMessage = "Dkim:Ed25519Selector must be letters, digits and hyphens, such as mailer2024e.")]
    public string? Ed25519Selector { get; set; }

    /// <summary>The optional Ed25519 private key (PEM, PKCS#8), absolute or relative to the content root. Default empty.</summary>
    public string? Ed25519PrivateKeyPath { get; set; }

    /// <summary>True when any of the RSA settings is given; the validator then wants all three.</summary>
    public bool IsEnabled =>
        !string.IsNullOrWhiteSpace(Domain) || !string.IsNullOrWhiteSpace(Selector) || !string.IsNullOrWhiteSpace(PrivateKeyPath);

    public bool HasEd25519 => !string.IsNullOrWhiteSpace(Ed25519Selector) || !string.IsNullOrWhiteSpace(Ed25519PrivateKeyPath);

    /// <summary>The signing domain in lower case, without a trailing dot.</summary>
    public string NormalizedDomain => (Domain ?? "").Trim().TrimEnd('.').ToLowerInvariant();
}
