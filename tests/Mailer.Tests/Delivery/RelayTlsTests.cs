using System.Security.Cryptography.X509Certificates;
using Mailer.Delivery;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Delivery;

/// <summary>
/// STARTTLS to a real Postfix whose certificate no system trusts (self-signed, as Debian's snakeoil): the default
/// refuses it and the error names the settings that would trust it; a pinned SHA-256 or the CA file let mail through.
/// </summary>
public sealed class RelayTlsTests : IAsyncLifetime
{
    private PostfixRelay? _relay;

    private PostfixRelay Relay => _relay!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _relay = await PostfixRelay.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_relay is not null)
        {
            await _relay.DisposeAsync();
        }
    }

    [Fact]
    public async Task DefaultAuto_RefusesTheSelfSignedCertificate_WithAMessageNamingTheSettings()
    {
        var result = await SendAsync(_ => { });

        TestContext.Current.TestOutputHelper?.WriteLine(result.Reply);
        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains("Smtp:TrustedCertificateSha256", result.Reply);
        Assert.Contains("Smtp:TrustedCaFile", result.Reply);
        Assert.Contains(Fingerprint(), result.Reply);
        Assert.Equal(0, Relay.Deliveries());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PinnedSha256_Sends(bool withColons)
    {
        var pin = withColons ? string.Join(':', Fingerprint().Chunk(2).Select(c => new string(c))).ToLowerInvariant() : Fingerprint();

        var result = await SendAsync(options => options.TrustedCertificateSha256 = pin);

        Assert.True(result.Outcome == SendOutcome.Accepted, result.Reply);
        await Relay.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task CaFile_Sends()
    {
        var result = await SendAsync(options => options.TrustedCaFile = Relay.CertificateFile);

        Assert.True(result.Outcome == SendOutcome.Accepted, result.Reply);
        await Relay.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task CaFile_WithAHostTheCertificateDoesNotName_Fails_SayingSo()
    {
        var result = await SendAsync(options => (options.Host, options.TrustedCaFile) = ("localhost", Relay.CertificateFile));

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains("its name does not match Smtp:Host", result.Reply);
        Assert.Equal(0, Relay.Deliveries());
    }

    [Fact]
    public async Task PinnedSha256_HoldsWhateverTheName_AsForDebiansSnakeoilCertificate()
    {
        var result = await SendAsync(options => (options.Host, options.TrustedCertificateSha256) = ("localhost", Fingerprint()));

        Assert.True(result.Outcome == SendOutcome.Accepted, result.Reply);
        await Relay.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WrongPin_Fails_SayingTheCertificatesRealSha256()
    {
        var result = await SendAsync(options => options.TrustedCertificateSha256 = new string('0', 64));

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains($"its SHA-256 is {Fingerprint()}, not the one in Smtp:TrustedCertificateSha256", result.Reply);
        Assert.Equal(0, Relay.Deliveries());
    }

    private async Task<SendResult> SendAsync(Action<SmtpOptions> configure)
    {
        var options = new SmtpOptions { Host = "127.0.0.1", Port = Relay.Port, Timeout = TimeSpan.FromSeconds(30), HeloName = "mailer.test" };
        configure(options);
        var transport = new SmtpTransport(Options.Create(options), TimeProvider.System, NullLogger<SmtpTransport>.Instance);
        await using var connection = await transport.OpenAsync(Cancel);
        return await connection.SendAsync(TestMails.Message(1), Cancel);
    }

    private string Fingerprint()
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Relay.CertificateFile));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(certificate.RawData));
    }
}
