using Mailer.Hosting;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Security;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// Signs each message with DKIM (relaxed/relaxed) as the last step before it goes out, after its transfer
/// encoding was fixed for the channel it takes: a message signed as 8bit and then re-encoded for a server without
/// 8BITMIME would no longer verify. So the transports call <see cref="PrepareAndSign"/> with the constraint of
/// that connection (MailKit's own choice for SMTP, 7bit for the pickup folder) instead of preparing the message
/// themselves. The keys are read once, at the first message; per message there is one hash of the body and the
/// headers and one private-key operation per key.
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

    private readonly Lazy<IReadOnlyList<DkimSigner>> _signers;
    private readonly List<IDisposable> _owned = [];

    public DkimSigning(IOptions<DkimOptions> options, IHostEnvironment environment, TimeProvider time)
    {
        _signers = new Lazy<IReadOnlyList<DkimSigner>>(() => CreateSigners(options.Value, environment.ContentRootPath, time));
    }

    /// <summary>Whether messages are signed (reads and checks the keys on first use).</summary>
    public bool IsEnabled => _signers.Value.Count > 0;

    /// <summary>
    /// Fixes the message's transfer encoding for <paramref name="constraint"/>, then signs it as
    /// <paramref name="format"/> writes it. A signature from an earlier attempt is replaced: the encoding may differ now.
    /// </summary>
    public void PrepareAndSign(MimeMessage message, EncodingConstraint constraint, int maxLineLength, FormatOptions format)
    {
        message.Headers.RemoveAll(HeaderId.DkimSignature);
        message.Prepare(constraint, maxLineLength);
        foreach (var signer in _signers.Value)
        {
            signer.Sign(format, message, (IList<string>)SignedHeaders);
        }
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private List<DkimSigner> CreateSigners(DkimOptions options, string contentRoot, TimeProvider time)
    {
        var signers = new List<DkimSigner>();
        if (!options.IsEnabled)
        {
            return signers;
        }

        var domain = options.NormalizedDomain;
        var rsa = Read(DkimKeys.ReadRsa("Dkim:PrivateKeyPath", ContentRoot.Combine(contentRoot, options.PrivateKeyPath!)));
        var pool = new RsaSignerPool(rsa);
        _owned.Add(pool);
        // MimeKit's signer wants the key as BouncyCastle's too; it is only kept, the signing runs in RsaSignerPool.
        var bouncyCastleKey = DotNetUtilities.GetRsaKeyPair(rsa.ExportParameters(includePrivateParameters: true)).Private;
        signers.Add(Relaxed(new RsaSha256DkimSigner(pool, bouncyCastleKey, domain, options.Selector!.Trim(), time)));

        if (options.HasEd25519)
        {
            var ed25519 = Read(DkimKeys.ReadEd25519("Dkim:Ed25519PrivateKeyPath", ContentRoot.Combine(contentRoot, options.Ed25519PrivateKeyPath!)));
            signers.Add(Relaxed(new TimedDkimSigner(ed25519, domain, options.Ed25519Selector!.Trim(), DkimSignatureAlgorithm.Ed25519Sha256, time)));
        }

        return signers;
    }

    private static TKey Read<TKey>(DkimKeyResult<TKey> result)
        where TKey : class =>
        result.Key ?? throw new OptionsValidationException(DkimOptions.Section, typeof(DkimOptions), [result.Error!]);

    private static DkimSigner Relaxed(DkimSigner signer)
    {
        signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        return signer;
    }
}
