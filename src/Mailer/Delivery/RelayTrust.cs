using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mailer.Delivery;

/// <summary>
/// Which TLS certificates of the relay are accepted: what the system trusts for the name in <c>Smtp:Host</c>, and
/// besides that the one certificate pinned by <c>Smtp:TrustedCertificateSha256</c> (e.g. Debian Postfix's self-signed
/// "snakeoil", whatever its name) or any certificate for that name signed by an authority of <c>Smtp:TrustedCaFile</c>.
/// MailKit asks <see cref="Check"/> during each handshake; a refusal is kept, so the error can say why and what to set.
/// </summary>
public sealed class RelayTrust
{
    private readonly byte[]? _pin;
    private readonly X509Certificate2Collection _authorities;

    public RelayTrust(SmtpOptions options)
    {
        _pin = ParsePin(options.TrustedCertificateSha256);
        _authorities = string.IsNullOrWhiteSpace(options.TrustedCaFile) ? [] : LoadAuthorities(options.TrustedCaFile);
    }

    /// <summary>
    /// The SHA-256 of <c>Smtp:TrustedCertificateSha256</c> (hex, colons and spaces allowed, any case), null when it is
    /// empty; throws <see cref="FormatException"/> when it is not 32 bytes of hex.
    /// </summary>
    public static byte[]? ParsePin(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var hex = new string([.. value.Where(c => c is not (':' or ' '))]);
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit)
            ? Convert.FromHexString(hex)
            : throw new FormatException("Smtp:TrustedCertificateSha256 must be the relay certificate's SHA-256: 64 hex digits, colons allowed "
                + "(openssl x509 -noout -fingerprint -sha256 -in cert.pem).");
    }

    /// <summary>The certificates of a PEM file; throws <see cref="FormatException"/> naming the key when there are none.</summary>
    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FormatException($"Smtp:TrustedCaFile: {full} does not exist.");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(full);
        }
        catch (CryptographicException e)
        {
            throw new FormatException($"Smtp:TrustedCaFile: {full} is not a PEM file of certificates ({e.Message}).");
        }

        return authorities.Count > 0 ? authorities : throw new FormatException($"Smtp:TrustedCaFile: {full} holds no PEM certificate.");
    }

    /// <summary>The hex SHA-256 of a certificate, as openssl prints it (without colons).</summary>
    public static string Fingerprint(X509Certificate certificate) =>
        Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));

    /// <summary>A check for one connection, to hand to MailKit's <c>ServerCertificateValidationCallback</c>.</summary>
    public Handshake Begin() => new(this);

    /// <summary>The check of one connection's handshake, and why it refused, if it did.</summary>
    public sealed class Handshake(RelayTrust trust)
    {
        /// <summary>Why the last certificate was refused, or null.</summary>
        public string? Refusal { get; private set; }

        public bool Check(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            Refusal = null;
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (certificate is null)
            {
                Refusal = "the relay sent no certificate";
                return false;
            }

            var fingerprint = Fingerprint(certificate);
            if (trust._pin is { } pin)
            {
                if (Convert.FromHexString(fingerprint).AsSpan().SequenceEqual(pin))
                {
                    return true;
                }

                Refusal = $"its SHA-256 is {fingerprint}, not the one in Smtp:TrustedCertificateSha256";
            }

            if (trust._authorities.Count > 0)
            {
                if (IsSignedByTrustedAuthority(certificate, chain, errors))
                {
                    return true;
                }

                Refusal = (Refusal is null ? "" : Refusal + "; ") + ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0
                    ? "its name does not match Smtp:Host"
                    : "no authority of Smtp:TrustedCaFile signed it");
            }

            Refusal ??= string.Create(CultureInfo.InvariantCulture,
                $"{Describe(errors, chain)}; SHA-256 {fingerprint}, subject {certificate.Subject}");
            return false;
        }

        private bool IsSignedByTrustedAuthority(X509Certificate certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(trust._authorities);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                // The intermediates the relay sent along.
                custom.ChainPolicy.ExtraStore.AddRange(chain.ChainElements.Cast<X509ChainElement>().Select(e => e.Certificate).ToArray());
            }

            return custom.Build(leaf);
        }

        private static string Describe(SslPolicyErrors errors, X509Chain? chain)
        {
            var reasons = new List<string>();
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                reasons.Add("its name does not match Smtp:Host");
            }

            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                var status = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct() ?? [];
                reasons.Add($"this system does not trust its issuer ({string.Join(", ", status)})");
            }

            return reasons.Count > 0 ? string.Join(" and ", reasons) : errors.ToString();
        }
    }
}
