using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailer.Links;

/// <summary>What a token may be used for; a token of one purpose is worthless for another.</summary>
public enum TokenPurpose
{
    Confirm,
    Unsubscribe,
    Click,
    Done,
}

/// <summary>A verified token: whose it is and until when it holds.</summary>
public readonly record struct TokenClaim(TokenPurpose Purpose, long SubscriberId, DateTimeOffset? Expires);

public enum TokenCheck
{
    Valid,
    Invalid,
    Expired,
}

/// <summary>
/// Signed, stateless tokens for the links in mails: HMAC-SHA256 over purpose, subscriber and expiry, so a
/// token cannot be forged, moved to another subscriber or used for another purpose.
/// Format: base64url("purpose.subscriber.expiry") + "." + base64url(first 16 bytes of the MAC).
/// </summary>
public sealed class LinkTokens(SigningKey key, TimeProvider time)
{
    private const int MacBytes = 16;

    public string Issue(TokenPurpose purpose, long subscriberId, DateTimeOffset? expires = null)
    {
        var payload = string.Create(CultureInfo.InvariantCulture,
            $"{(int)purpose}.{subscriberId}.{expires?.ToUnixTimeSeconds() ?? 0}");
        var payloadBytes = Encoding.ASCII.GetBytes(payload);
        return Base64Url.EncodeToString(payloadBytes) + "." + Base64Url.EncodeToString(Mac(payloadBytes));
    }

    public TokenCheck Check(string? token, TokenPurpose purpose, out TokenClaim claim)
    {
        claim = default;
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return TokenCheck.Invalid;
        }

        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1)
        {
            return TokenCheck.Invalid;
        }

        byte[] payloadBytes;
        byte[] mac;
        try
        {
            payloadBytes = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return TokenCheck.Invalid;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(payloadBytes)))
        {
            return TokenCheck.Invalid;
        }

        var parts = Encoding.ASCII.GetString(payloadBytes).Split('.');
        if (parts.Length != 3
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var purposeNumber)
            || purposeNumber != (int)purpose
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var subscriberId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expirySeconds))
        {
            return TokenCheck.Invalid;
        }

        DateTimeOffset? expires = expirySeconds == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(expirySeconds);
        claim = new TokenClaim(purpose, subscriberId, expires);
        return expires is { } until && until < time.GetUtcNow() ? TokenCheck.Expired : TokenCheck.Valid;
    }

    private byte[] Mac(byte[] payload) => HMACSHA256.HashData(key.Bytes, payload).AsSpan(0, MacBytes).ToArray();
}
