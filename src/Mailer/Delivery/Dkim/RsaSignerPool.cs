using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Mailer.Delivery.Dkim;

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
