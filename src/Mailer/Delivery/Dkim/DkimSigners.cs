using System.Collections.Concurrent;
using System.Security.Cryptography;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;

namespace Mailer.Delivery.Dkim;

/// <summary>MimeKit's signer with the signature time (<c>t=</c>) from the injected clock.</summary>
internal class TimedDkimSigner(AsymmetricKeyParameter key, string domain, string selector, DkimSignatureAlgorithm algorithm, TimeProvider time)
    : DkimSigner(key, domain, selector, algorithm)
{
    protected override long GetTimestamp() => time.GetUtcNow().ToUnixTimeSeconds();
}

/// <summary>
/// RSA-SHA256 with the private-key operation done by .NET (OpenSSL here) instead of BouncyCastle's managed RSA,
/// which MimeKit uses otherwise and which takes several times as long per signature. The signature is the same
/// (PKCS#1 v1.5 is deterministic): MimeKit still writes the header and hashes what it covers.
/// </summary>
internal sealed class RsaSha256DkimSigner(RsaSignerPool pool, AsymmetricKeyParameter key, string domain, string selector, TimeProvider time)
    : TimedDkimSigner(key, domain, selector, DkimSignatureAlgorithm.RsaSha256, time)
{
    protected override ISigner CreateSigningContext() => new Context(pool);

    /// <summary>One signature: SHA-256 over the canonical headers as MimeKit writes them, then RSA over the hash.</summary>
    private sealed class Context(RsaSignerPool pool) : ISigner
    {
        private readonly Sha256Digest _digest = new();

        public string AlgorithmName => "SHA-256withRSA";

        public void Init(bool forSigning, ICipherParameters parameters)
        {
        }

        public void Update(byte input) => _digest.Update(input);

        public void BlockUpdate(byte[] input, int inOff, int inLen) => _digest.BlockUpdate(input, inOff, inLen);

        public void BlockUpdate(ReadOnlySpan<byte> input) => _digest.BlockUpdate(input);

        public int GetMaxSignatureSize() => pool.SignatureBytes;

        public byte[] GenerateSignature()
        {
            Span<byte> hash = stackalloc byte[32];
            _digest.DoFinal(hash);
            return pool.SignHash(hash);
        }

        public bool VerifySignature(byte[] signature) => throw new NotSupportedException("This context only signs.");

        public void Reset() => _digest.Reset();
    }
}

/// <summary>
/// The RSA key, parsed once, in as many instances as messages are signed at the same time (one per sending
/// connection at most): .NET does not promise that one instance may sign on several threads at once.
/// </summary>
internal sealed class RsaSignerPool : IDisposable
{
    private readonly byte[] _pkcs8;
    private readonly ConcurrentBag<RSA> _idle = [];

    public RsaSignerPool(RSA key)
    {
        _pkcs8 = key.ExportPkcs8PrivateKey();
        SignatureBytes = key.KeySize / 8;
        _idle.Add(key);
    }

    public int SignatureBytes { get; }

    public byte[] SignHash(ReadOnlySpan<byte> hash)
    {
        if (!_idle.TryTake(out var rsa))
        {
            rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(_pkcs8, out _);
        }

        try
        {
            return rsa.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        finally
        {
            _idle.Add(rsa);
        }
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var rsa))
        {
            rsa.Dispose();
        }

        CryptographicOperations.ZeroMemory(_pkcs8);
    }
}
