using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace Mailer.Delivery.Dkim;

/// <summary>A key read from its PEM file, or why not (for the start-up message, which names the setting).</summary>
public sealed record DkimKeyResult<TKey>(TKey? Key, string? Error)
    where TKey : class
{
    public static DkimKeyResult<TKey> Failed(string error) => new(null, error);
}

/// <summary>Reads and checks the private keys of <see cref="DkimOptions"/>; the DNS record for a public key.</summary>
public static class DkimKeys
{
    /// <summary>Below this, receivers such as Gmail treat a signature as weak (RFC 8301 asks for 1024, recommends 2048).</summary>
    public const int MinimumRsaBits = 2048;

    /// <summary>The RSA key in <paramref name="path"/>: a PEM private key (PKCS#1 or PKCS#8) of at least 2048 bits.</summary>
    public static DkimKeyResult<RSA> ReadRsa(string setting, string path)
    {
        if (ReadPem(setting, path, out var text) is { } error)
        {
            return DkimKeyResult<RSA>.Failed(error);
        }

        if (!PemEncoding.TryFind(text, out var fields))
        {
            return DkimKeyResult<RSA>.Failed($"{setting}: {path} is not a PEM file (-----BEGIN PRIVATE KEY-----).");
        }

        var label = text[fields.Label].ToString();
        if (label is not ("PRIVATE KEY" or "RSA PRIVATE KEY"))
        {
            return DkimKeyResult<RSA>.Failed($"{setting}: {path} holds a {label}, not an unencrypted private key.");
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(text);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            return DkimKeyResult<RSA>.Failed($"{setting}: {path} is not an RSA private key ({e.Message.TrimEnd('.')}).");
        }

        if (rsa.KeySize < MinimumRsaBits)
        {
            var bits = rsa.KeySize;
            rsa.Dispose();
            return DkimKeyResult<RSA>.Failed($"{setting}: the RSA key in {path} has {bits} bits; at least {MinimumRsaBits} are needed.");
        }

        return new DkimKeyResult<RSA>(rsa, null);
    }

    /// <summary>The Ed25519 key in <paramref name="path"/>: a PEM private key (PKCS#8, as <c>openssl genpkey -algorithm ed25519</c> writes).</summary>
    public static DkimKeyResult<Ed25519PrivateKeyParameters> ReadEd25519(string setting, string path)
    {
        if (ReadPem(setting, path, out var text) is { } error)
        {
            return DkimKeyResult<Ed25519PrivateKeyParameters>.Failed(error);
        }

        object? read;
        try
        {
            using var reader = new PemReader(new StringReader(text));
            read = reader.ReadObject();
        }
        catch (Exception e) when (e is IOException or PemException or ArgumentException or InvalidCastException)
        {
            read = null;
        }

        var key = read as Ed25519PrivateKeyParameters ?? (read as AsymmetricCipherKeyPair)?.Private as Ed25519PrivateKeyParameters;
        return key is not null
            ? new DkimKeyResult<Ed25519PrivateKeyParameters>(key, null)
            : DkimKeyResult<Ed25519PrivateKeyParameters>.Failed($"{setting}: {path} is not an Ed25519 private key (PEM, -----BEGIN PRIVATE KEY-----).");
    }

    /// <summary>The TXT record's value for an RSA key: <c>v=DKIM1; k=rsa; p=</c> and the SubjectPublicKeyInfo in base64.</summary>
    public static string RsaRecord(RSA key) => "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>The TXT record's value for an Ed25519 key: the raw 32-byte public key in base64 (RFC 8463, 4.2).</summary>
    public static string Ed25519Record(Ed25519PrivateKeyParameters key) =>
        "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(key.GeneratePublicKey().GetEncoded());

    /// <summary>
    /// The record as one line of a zone file: <c>S._domainkey.example.org. TXT "v=DKIM1; ..." "..."</c>. A TXT
    /// record's strings hold at most 255 characters each, so a 2048-bit key's record (about 410 characters) is split
    /// into several quoted strings, which resolvers join again without spaces.
    /// </summary>
    public static string ZoneLine(string selector, string domain, string record)
    {
        var strings = record.Chunk(255).Select(chunk => $"\"{new string(chunk)}\"");
        return $"{selector}._domainkey.{domain}. TXT {string.Join(' ', strings)}";
    }

    private static string? ReadPem(string setting, string path, out string text)
    {
        text = "";
        if (!File.Exists(path))
        {
            return $"{setting}: {path} does not exist (create a key with: mailer dkim-keygen --selector NAME --out {path}).";
        }

        try
        {
            text = File.ReadAllText(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{setting}: {path} cannot be read ({e.Message.TrimEnd('.')}).";
        }
    }
}
