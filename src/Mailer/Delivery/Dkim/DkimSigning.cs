using System.Globalization;
using System.Security.Cryptography;
using Mailer.Hosting;
using Microsoft.Extensions.Options;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// Signs each message with DKIM (relaxed/relaxed) as the last step before it goes out, over the very bytes that go:
/// the transports write a message for their channel (8bit where the server offers 8BITMIME, else 7-bit clean) and
/// then call <see cref="Sign"/>, which adds a <c>DKIM-Signature</c> field at the top. The keys are read once, at the
/// first message; per message there is one relaxed pass over the body and the signed fields into a pooled buffer,
/// SHA-256 by .NET (the CPU's SHA instructions) and one private-key operation per key.
/// </summary>
public sealed class DkimSigning : IDisposable
{
    /// <summary>
    /// The headers a signature covers, each named twice: the first covers the header (or its absence, as Reply-To
    /// without <c>Mailer:ReplyTo</c> and the List-Unsubscribe pair on the opt-in request), the second covers the
    /// absence of another one ("oversigning", RFC 6376 8.15). So nobody on the way can add a second From or
    /// Subject that a mail program would show, a Reply-To, or an unsubscribe link of their own, without breaking the
    /// signature. The relay must therefore add none of these (see the README, Deliverability).
    /// </summary>
    public static readonly IReadOnlyList<string> SignedHeaders = [.. Enumerable.Repeat(new[]
    {
        "From", "Reply-To", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    }, 2).SelectMany(names => names)];

    private static readonly string HeaderList = string.Join(':', SignedHeaders).ToLowerInvariant();

    private readonly Lazy<IReadOnlyList<DkimKey>> _keys;
    private readonly List<IDisposable> _owned = [];
    private readonly TimeProvider _time;

    public DkimSigning(IOptions<DkimOptions> options, IHostEnvironment environment, TimeProvider time)
    {
        _keys = new Lazy<IReadOnlyList<DkimKey>>(() => CreateKeys(options.Value, environment.ContentRootPath));
        _time = time;
    }

    /// <summary>Whether messages are signed (reads and checks the keys on first use).</summary>
    public bool IsEnabled => _keys.Value.Count > 0;

    /// <summary>
    /// Signs the message in <paramref name="message"/> (CRLF line ends, a header block of <paramref name="headerLength"/>
    /// octets with its blank line, then the body) and inserts one <c>DKIM-Signature</c> per key at the top.
    /// Returns the header block's new length.
    /// </summary>
    internal int Sign(MailBuffer message, int headerLength)
    {
        var keys = _keys.Value;
        if (keys.Count == 0)
        {
            return headerLength;
        }

        using var canonical = new MailBuffer(message.Length);
        DkimCanonical.Body(message.Written[headerLength..], canonical);
        Span<byte> bodyHash = stackalloc byte[32];
        SHA256.HashData(canonical.Written, bodyHash);
        var fields = Fields(message.Written[..(headerLength - 2)]);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        var signatures = new List<byte[]>(keys.Count);
        Span<byte> hash = stackalloc byte[32];
        foreach (var key in keys)
        {
            // The field without b='s value, as it is hashed last, then with it.
            var unsigned = $"DKIM-Signature: v=1; a={key.Algorithm}; c=relaxed/relaxed; d={key.Domain}; s={key.Selector};\r\n"
                + $"\tt={timestamp}; h={HeaderList};\r\n\tbh={Convert.ToBase64String(bodyHash)};\r\n\tb=";
            canonical.Clear();
            var used = new bool[fields.Count];
            foreach (var name in SignedHeaders)
            {
                // Each name takes the last field of that name not taken yet, from the bottom up (RFC 6376, 5.4.2).
                for (var i = fields.Count - 1; i >= 0; i--)
                {
                    if (!used[i] && fields[i].Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    {
                        used[i] = true;
                        var (start, length) = fields[i].Range;
                        DkimCanonical.Header(message.Written.Slice(start, length), canonical);
                        break;
                    }
                }
            }

            DkimCanonical.Header(System.Text.Encoding.ASCII.GetBytes(unsigned), canonical, last: true);
            SHA256.HashData(canonical.Written, hash);
            signatures.Add(System.Text.Encoding.ASCII.GetBytes(unsigned + Convert.ToBase64String(key.Sign(hash)) + "\r\n"));
        }

        // As MimeKit did: each signature goes on top, so the last key's is first.
        foreach (var signature in signatures)
        {
            message.Insert(0, signature);
            headerLength += signature.Length;
        }

        return headerLength;
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    /// <summary>The header block's fields: each name and where the field lies (continuation lines and CRLF included).</summary>
    private static List<(string Name, (int Start, int Length) Range)> Fields(ReadOnlySpan<byte> header)
    {
        var fields = new List<(string, (int, int))>(24);
        var start = 0;
        while (start < header.Length)
        {
            var end = start;
            do
            {
                var lf = header[end..].IndexOf((byte)'\n');
                end = lf < 0 ? header.Length : end + lf + 1;
            }
            while (end < header.Length && header[end] is (byte)' ' or (byte)'\t');

            var field = header[start..end];
            var colon = field.IndexOf((byte)':');
            fields.Add((System.Text.Encoding.ASCII.GetString(field[..Math.Max(colon, 0)]).TrimEnd(), (start, end - start)));
            start = end;
        }

        return fields;
    }

    private List<DkimKey> CreateKeys(DkimOptions options, string contentRoot)
    {
        var keys = new List<DkimKey>();
        if (!options.IsEnabled)
        {
            return keys;
        }

        var domain = options.NormalizedDomain;
        var rsa = Read(DkimKeys.ReadRsa("Dkim:PrivateKeyPath", ContentRoot.Combine(contentRoot, options.PrivateKeyPath!)));
        var pool = new RsaSignerPool(rsa);
        _owned.Add(pool);
        keys.Add(new DkimKey("rsa-sha256", domain, options.Selector!.Trim(), hash => pool.SignHash(hash)));

        if (options.HasEd25519)
        {
            var ed25519 = Read(DkimKeys.ReadEd25519("Dkim:Ed25519PrivateKeyPath", ContentRoot.Combine(contentRoot, options.Ed25519PrivateKeyPath!)));
            keys.Add(new DkimKey("ed25519-sha256", domain, options.Ed25519Selector!.Trim(), hash => SignEd25519(ed25519, hash)));
        }

        return keys;
    }

    /// <summary>Ed25519 (PureEdDSA) over the SHA-256 of the signed data (RFC 8463, 3).</summary>
    private static byte[] SignEd25519(Ed25519PrivateKeyParameters key, ReadOnlySpan<byte> hash)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, key);
        signer.BlockUpdate(hash);
        return signer.GenerateSignature();
    }

    private static TKey Read<TKey>(DkimKeyResult<TKey> result)
        where TKey : class =>
        result.Key ?? throw new OptionsValidationException(DkimOptions.Section, typeof(DkimOptions), [result.Error!]);

    private delegate byte[] HashSigner(ReadOnlySpan<byte> hash);

    private sealed record DkimKey(string Algorithm, string Domain, string Selector, HashSigner Sign);
}
