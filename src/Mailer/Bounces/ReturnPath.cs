using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mailer.Links;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

/// <summary>What a tag in an envelope sender names: one ledger row, or one subscriber's confirmation mail.</summary>
public enum BounceTagKind
{
    Delivery,
    Confirmation,
}

/// <summary>A verified tag: the ledger row (<see cref="BounceTagKind.Delivery"/>) or the subscriber (<see cref="BounceTagKind.Confirmation"/>).</summary>
public readonly record struct BounceTag(BounceTagKind Kind, long Id);

/// <summary>
/// The envelope sender of each message (VERP): <c>Bounces:ReturnPath</c> with a tag, <c>bounces+d123-k7wq2m4xea@example.org</c>
/// for ledger row 123 (<c>c</c> for a confirmation mail to subscriber 123), so a report says whose message came back
/// without parsing the report's prose. The tag ends in a MAC (HMAC-SHA256 with <c>Mailer:SigningKey</c>, 50 bits, in
/// base32): a forged report for somebody else's address changes nothing. Everything is lower-case letters and digits,
/// since relays may fold the case of the local part. Without <c>Bounces:ReturnPath</c> there are no tags: null.
/// </summary>
public sealed class ReturnPath
{
    private const int MacChars = 10;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private static readonly byte[] Purpose = Encoding.ASCII.GetBytes("bounce-tag:");

    private readonly byte[] _key;
    private readonly string? _local;
    private readonly string? _domain;

    public ReturnPath(IOptions<BouncesOptions> options, SigningKey key)
    {
        // A key of its own, derived: a MAC of a tag is never a MAC that a link token could use.
        _key = HMACSHA256.HashData(key.Bytes, Purpose);
        var configured = options.Value.ReturnPath?.Trim();
        if (!string.IsNullOrEmpty(configured))
        {
            var at = configured.LastIndexOf('@');
            (_local, _domain) = (configured[..at], configured[(at + 1)..]);
        }
    }

    public bool IsEnabled => _local is not null;

    /// <summary>The envelope sender for ledger row <paramref name="deliveryId"/>; null without <c>Bounces:ReturnPath</c>.</summary>
    public string? ForDelivery(long deliveryId) => Address(new BounceTag(BounceTagKind.Delivery, deliveryId));

    /// <summary>The envelope sender for the confirmation mail of <paramref name="subscriberId"/>; null without <c>Bounces:ReturnPath</c>.</summary>
    public string? ForConfirmation(long subscriberId) => Address(new BounceTag(BounceTagKind.Confirmation, subscriberId));

    public string? Address(BounceTag tag)
    {
        if (_local is null)
        {
            return null;
        }

        var payload = Payload(tag);
        return $"{_local}+{payload}-{Mac(payload)}@{_domain}";
    }

    /// <summary>
    /// The tag in <paramref name="address"/> if it is one of ours with a valid MAC: the local part and domain compared
    /// without regard to case, a display name or angle brackets allowed. False for anything else.
    /// </summary>
    public bool TryRead(string? address, out BounceTag tag)
    {
        tag = default;
        if (_local is null || string.IsNullOrEmpty(address) || address.Length > 320)
        {
            return false;
        }

        var text = address.Trim();
        var open = text.LastIndexOf('<');
        if (open >= 0)
        {
            var close = text.IndexOf('>', open);
            text = close > open ? text[(open + 1)..close] : text[(open + 1)..];
        }

        text = text.Trim().ToLowerInvariant();
        var at = text.LastIndexOf('@');
        var prefix = _local.ToLowerInvariant() + "+";
        if (at < 0 || !string.Equals(text[(at + 1)..].TrimEnd('.'), _domain!.ToLowerInvariant(), StringComparison.Ordinal)
            || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var value = text[prefix.Length..at];
        var dash = value.LastIndexOf('-');
        if (dash < 2 || value.Length - dash - 1 != MacChars)
        {
            return false;
        }

        var payload = value[..dash];
        var kind = payload[0] switch
        {
            'd' => BounceTagKind.Delivery,
            'c' => BounceTagKind.Confirmation,
            _ => (BounceTagKind?)null,
        };
        if (kind is null || !long.TryParse(payload.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0
            || payload != Payload(new BounceTag(kind.Value, id)))
        {
            return false;
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(value[(dash + 1)..]), Encoding.ASCII.GetBytes(Mac(payload))))
        {
            return false;
        }

        tag = new BounceTag(kind.Value, id);
        return true;
    }

    private static string Payload(BounceTag tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{(tag.Kind == BounceTagKind.Delivery ? 'd' : 'c')}{tag.Id}");

    /// <summary>The first 50 bits of the HMAC, as 10 base32 letters and digits.</summary>
    private string Mac(string payload)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(payload), hash);
        var bits = 0UL;
        for (var i = 0; i < 8; i++)
        {
            bits = (bits << 8) | hash[i];
        }

        Span<char> chars = stackalloc char[MacChars];
        for (var i = 0; i < MacChars; i++)
        {
            chars[i] = Alphabet[(int)(bits >> (64 - 5 * (i + 1))) & 31];
        }

        return new string(chars);
    }
}
