using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Mailer.Bounces;

/// <summary>One Amazon SNS message as posted to an HTTPS subscription (a notification or a subscription confirmation).</summary>
public sealed class SnsMessage
{
    public string? Type { get; init; }

    public string? MessageId { get; init; }

    public string? Token { get; init; }

    public string? TopicArn { get; init; }

    public string? Subject { get; init; }

    public string? Message { get; init; }

    public string? Timestamp { get; init; }

    public string? SignatureVersion { get; init; }

    public string? Signature { get; init; }

    [JsonPropertyName("SigningCertURL")]
    public string? SigningCertUrl { get; init; }

    [JsonPropertyName("SubscribeURL")]
    public string? SubscribeUrl { get; init; }
}

/// <summary>Fetches the certificate an SNS message names; tests hand in their own.</summary>
public interface ISnsCertificateSource
{
    Task<X509Certificate2> GetAsync(Uri url, CancellationToken cancellationToken);
}

/// <summary>Fetches SNS signing certificates over HTTPS and keeps each (SNS uses a handful, rotated rarely).</summary>
public sealed class HttpSnsCertificateSource(HttpClient http) : ISnsCertificateSource
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Uri, Task<X509Certificate2>> _cache = new();

    public async Task<X509Certificate2> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        var fetch = _cache.GetOrAdd(url, async u => X509Certificate2.CreateFromPem(await http.GetStringAsync(u, CancellationToken.None)));
        try
        {
            return await fetch.WaitAsync(cancellationToken);
        }
        catch (Exception) when (fetch.IsFaulted)
        {
            // Not kept: the next message fetches again.
            _cache.TryRemove(new KeyValuePair<Uri, Task<X509Certificate2>>(url, fetch));
            throw;
        }
    }
}

/// <summary>
/// Checks an SNS message the way Amazon documents it: <c>SigningCertURL</c> an https URL of an <c>sns.&lt;region&gt;.amazonaws.com</c>
/// host ending in <c>.pem</c>, and <c>Signature</c> the RSA signature (SignatureVersion 1: SHA1, 2: SHA256) of the canonical
/// string, "Key\nValue\n" for the message's fields in Amazon's order.
/// </summary>
public sealed partial class SnsVerifier(ISnsCertificateSource certificates)
{
    public async Task<bool> IsAuthenticAsync(SnsMessage message, CancellationToken cancellationToken)
    {
        var hash = message.SignatureVersion switch
        {
            "1" => HashAlgorithmName.SHA1,
            "2" => HashAlgorithmName.SHA256,
            _ => (HashAlgorithmName?)null,
        };
        if (hash is null || !IsSnsCertificateUrl(message.SigningCertUrl, out var url) || Canonical(message) is not { } canonical
            || string.IsNullOrEmpty(message.Signature))
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(message.Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        // The source owns the certificate (it keeps it for the next message).
        var certificate = await certificates.GetAsync(url, cancellationToken);
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(Encoding.UTF8.GetBytes(canonical), signature, hash.Value, RSASignaturePadding.Pkcs1);
    }

    internal static bool IsSnsCertificateUrl(string? text, out Uri url)
    {
        url = null!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Scheme != Uri.UriSchemeHttps || !parsed.IsDefaultPort
            || !SnsHost().IsMatch(parsed.Host) || !parsed.AbsolutePath.EndsWith(".pem", StringComparison.Ordinal) || !string.IsNullOrEmpty(parsed.UserInfo))
        {
            return false;
        }

        url = parsed;
        return true;
    }

    /// <summary>The string Amazon signs; null when a field it needs is missing.</summary>
    internal static string? Canonical(SnsMessage m)
    {
        (string Key, string? Value, bool Required)[] fields = m.Type switch
        {
            "Notification" => [("Message", m.Message, true), ("MessageId", m.MessageId, true), ("Subject", m.Subject, false),
                ("Timestamp", m.Timestamp, true), ("TopicArn", m.TopicArn, true), ("Type", m.Type, true)],
            "SubscriptionConfirmation" or "UnsubscribeConfirmation" => [("Message", m.Message, true), ("MessageId", m.MessageId, true),
                ("SubscribeURL", m.SubscribeUrl, true), ("Timestamp", m.Timestamp, true), ("Token", m.Token, true), ("TopicArn", m.TopicArn, true), ("Type", m.Type, true)],
            _ => [],
        };
        if (fields.Length == 0 || fields.Any(f => f.Required && f.Value is null))
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var (key, value, _) in fields.Where(f => f.Value is not null))
        {
            text.Append(key).Append('\n').Append(value).Append('\n');
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")]
    private static partial Regex SnsHost();
}
