using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Mailer.Delivery;
using Mailer.Delivery.Dkim;
using Mailer.Rendering;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Mailer.Benchmarks;

/// <summary>
/// What DKIM signing adds to one composed reminder, with the program's own signer (an RSA-2048 key made here):
/// the message prepared and written out as the SMTP connection would, unsigned (the reference) and signed; the
/// signature step alone; and the RSA-2048 private-key operation alone, through .NET as the signer does it.
/// </summary>
[MemoryDiagnoser]
public class DkimBenchmarks
{
    private static readonly FormatOptions Wire = CreateWire();

    private WebApplication _app = null!;
    private DkimSigning _signing = null!;
    private ComposedMail _message = null!;
    private RSA _rsa = null!;
    private byte[] _hash = null!;

    [GlobalSetup]
    public void Setup()
    {
        var directory = Path.Combine(Path.GetTempPath(), "mailer-bench-dkim");
        Directory.CreateDirectory(directory);
        _rsa = RSA.Create(2048);
        var key = Path.Combine(directory, "bench.pem");
        File.WriteAllText(key, _rsa.ExportPkcs8PrivateKeyPem());
        _app = MailerServices.Build(directory, ("Dkim:Domain", "example.org"), ("Dkim:Selector", "bench"), ("Dkim:PrivateKeyPath", key));
        _signing = _app.Services.GetRequiredService<DkimSigning>();
        var composer = _app.Services.GetRequiredService<MailComposer>();
        var recipient = new Recipient(1, "person1@mail1.example", "de", ["facebook", "instagram"]);
        _message = composer.Compose(Mailings.ReminderFinal, recipient, new DateTimeOffset(2024, 5, 26, 6, 0, 1, TimeSpan.Zero));
        _hash = SHA256.HashData("one header block"u8);
        if (!_signing.IsEnabled)
        {
            throw new InvalidOperationException("The Dkim settings did not enable signing.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _rsa.Dispose();
    }

    [Benchmark(Baseline = true, Description = "write, unsigned (reference)")]
    public long Unsigned()
    {
        using var buffer = new MailBuffer();
        _message.WriteTo(buffer, eightBit: true);
        return buffer.Length;
    }

    [Benchmark(Description = "write + sign")]
    public long Signed()
    {
        using var buffer = new MailBuffer();
        return _signing.Sign(buffer, _message.WriteTo(buffer, eightBit: true));
    }

    [Benchmark(Description = "RSA-2048 signature of a hash alone (.NET, OpenSSL)")]
    public byte[] RsaAlone() => _rsa.SignHash(_hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    private static FormatOptions CreateWire()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.International = false;
        return format;
    }
}
