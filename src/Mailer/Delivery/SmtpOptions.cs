using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;

namespace Mailer.Delivery;

/// <summary>How the <c>Smtp</c> relay is reached, in <see cref="SmtpOptions.Security"/> (maps to MailKit's SecureSocketOptions).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text, never TLS (a relay on the same host).</summary>
    None,

    /// <summary>Plain connect, then STARTTLS; fails when the server does not offer it (port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>TLS on connect for port 465, else STARTTLS when the server offers it.</summary>
    Auto,
}

public static class SmtpSecurityExtensions
{
    /// <summary>MailKit's option for <paramref name="security"/> (SMTP and IMAP); MailKit's <c>Auto</c> is TLS on connect for 465 and 993, else STARTTLS when offered.</summary>
    public static MailKit.Security.SecureSocketOptions ToSecureSocketOptions(this SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => MailKit.Security.SecureSocketOptions.None,
        SmtpSecurity.StartTls => MailKit.Security.SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => MailKit.Security.SecureSocketOptions.SslOnConnect,
        _ => MailKit.Security.SecureSocketOptions.Auto,
    };
}

/// <summary>The <c>Smtp</c> section: where mails go. Without a <see cref="Host"/> they are written to <see cref="PickupDirectory"/>.</summary>
public sealed class SmtpOptions : IValidatableObject
{
    public const string Section = "Smtp";

    /// <summary>The SMTP relay's host name or IP address. Default empty: no relay, mails go to the pickup folder.</summary>
    public string? Host { get; set; }

    /// <summary>The relay's port. Default 25.</summary>
    [Range(1, 65535, ErrorMessage = "Smtp:Port must be 1-65535.")]
    public int Port { get; set; } = 25;

    /// <summary>Transport security: <c>None</c>, <c>StartTls</c>, <c>SslOnConnect</c> or <c>Auto</c> (default).</summary>
    [EnumDataType(typeof(SmtpSecurity), ErrorMessage = "Smtp:Security must be None, StartTls, SslOnConnect or Auto.")]
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>
    /// The SHA-256 of the relay's TLS certificate, in hex (colons allowed, as <c>openssl x509 -noout -fingerprint -sha256</c>
    /// prints it): that certificate is accepted whatever its name and issuer, e.g. Debian Postfix's self-signed one.
    /// Default empty: only certificates the system trusts for <see cref="Host"/> (or <see cref="TrustedCaFile"/>'s).
    /// </summary>
    public string? TrustedCertificateSha256 { get; set; }

    /// <summary>
    /// A PEM file of certificate authorities (a private CA) whose certificates for <see cref="Host"/> are accepted besides
    /// those the system trusts; a relative path is taken from the working directory. Default empty.
    /// </summary>
    public string? TrustedCaFile { get; set; }

    /// <summary>User name for SMTP AUTH. Default none; set together with <see cref="Password"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Password for SMTP AUTH. Default none; keep it out of appsettings.json (user secrets, environment).</summary>
    public string? Password { get; set; }

    /// <summary>The name this host gives in EHLO. Default: MailKit's choice (the machine's name).</summary>
    [RegularExpression(@"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$", ErrorMessage = "Smtp:HeloName must be a host name such as mail.example.org.")]
    public string? HeloName { get; set; }

    /// <summary>Folder for <c>.eml</c> files when no <see cref="Host"/> is set, relative to the content root. Default <c>outbox</c>.</summary>
    [Required(ErrorMessage = "Smtp:PickupDirectory is required (default 'outbox').")]
    public string PickupDirectory { get; set; } = "outbox";

    /// <summary>Parallel SMTP connections one campaign send uses. Default 4, 1-64.</summary>
    [Range(1, 64, ErrorMessage = "Smtp:Connections must be 1-64.")]
    public int Connections { get; set; } = 4;

    /// <summary>
    /// Ceiling for messages per second over all SMTP connections of this process together. Default 0: unlimited.
    /// </summary>
    [Range(0, 100_000, ErrorMessage = "Smtp:MaxMessagesPerSecond must be 0 (unlimited) to 100000.")]
    public int MaxMessagesPerSecond { get; set; }

    /// <summary>How long one SMTP step (connect, a command, its answer) may take before the attempt counts as failed. Default 00:00:30.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool UsesPickupDirectory => string.IsNullOrWhiteSpace(Host);

    [MemberNotNullWhen(true, nameof(Username), nameof(Password))]
    public bool HasCredentials => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Smtp:Username and Smtp:Password must be set together, or both left empty.", [nameof(Username), nameof(Password)]);
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Smtp:Timeout must be between 00:00:01 and 00:10:00.", [nameof(Timeout)]);
        }

        foreach (var problem in TrustProblems())
        {
            yield return problem;
        }

        if (!UsesPickupDirectory && Uri.CheckHostName(Host!.Trim()) == UriHostNameType.Unknown)
        {
            yield return new ValidationResult("Smtp:Host must be a host name or an IP address, or empty for the pickup folder.", [nameof(Host)]);
        }
    }

    private IEnumerable<ValidationResult> TrustProblems()
    {
        if (Problem(() => RelayTrust.ParsePin(TrustedCertificateSha256)) is { } pin)
        {
            yield return new ValidationResult(pin, [nameof(TrustedCertificateSha256)]);
        }

        if (!string.IsNullOrWhiteSpace(TrustedCaFile) && Problem(() => RelayTrust.LoadAuthorities(TrustedCaFile)) is { } authorities)
        {
            yield return new ValidationResult(authorities, [nameof(TrustedCaFile)]);
        }
    }

    /// <summary>The message of the <see cref="FormatException"/> <paramref name="check"/> throws, or null.</summary>
    private static string? Problem(Action check)
    {
        try
        {
            check();
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
