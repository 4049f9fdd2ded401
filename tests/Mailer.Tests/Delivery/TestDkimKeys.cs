using System.Security.Cryptography;
using Mailer.Delivery.Dkim;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Mailer.Tests.Delivery;

/// <summary>
/// One RSA-2048 and one Ed25519 key for the whole test run, as PEM files, with the DNS records a verifier is
/// given for them: the test mails are from <c>kampagne@example.org</c> and signed for <c>example.org</c>.
/// </summary>
internal static class TestDkimKeys
{
    public const string Domain = "example.org";
    public const string Selector = "test2048";
    public const string Ed25519Selector = "test25519";

    private static readonly Lazy<(string Rsa, string Ed25519, Dictionary<string, string> Records)> Keys = new(Create);

    public static string RsaPath => Keys.Value.Rsa;

    public static string Ed25519Path => Keys.Value.Ed25519;

    /// <summary><c>selector._domainkey.example.org</c> → the TXT value, for both keys.</summary>
    public static IReadOnlyDictionary<string, string> Records => Keys.Value.Records;

    public static DkimOptions Options(bool ed25519 = true) => new()
    {
        Domain = Domain,
        Selector = Selector,
        PrivateKeyPath = RsaPath,
        Ed25519Selector = ed25519 ? Ed25519Selector : null,
        Ed25519PrivateKeyPath = ed25519 ? Ed25519Path : null,
    };

    /// <summary>The same as configuration keys, for <see cref="Support.MailerAppFactory.Settings"/>.</summary>
    public static Dictionary<string, string?> Settings(bool ed25519 = true)
    {
        var options = Options(ed25519);
        return new Dictionary<string, string?>
        {
            ["Dkim:Domain"] = options.Domain,
            ["Dkim:Selector"] = options.Selector,
            ["Dkim:PrivateKeyPath"] = options.PrivateKeyPath,
            ["Dkim:Ed25519Selector"] = options.Ed25519Selector ?? "",
            ["Dkim:Ed25519PrivateKeyPath"] = options.Ed25519PrivateKeyPath ?? "",
        };
    }

    public static DkimSigning Signing(TimeProvider? time = null, bool ed25519 = true, DkimOptions? options = null) =>
        new(Microsoft.Extensions.Options.Options.Create(options ?? Options(ed25519)), Environment(), time ?? TimeProvider.System);

    public static HostingEnvironment Environment(string? contentRoot = null) =>
        new() { ContentRootPath = contentRoot ?? TestPaths.RepositoryRoot, EnvironmentName = "Testing" };

    private static (string, string, Dictionary<string, string>) Create()
    {
        var directory = TestPaths.NewTemporaryDirectory("dkim-keys");
        using var rsa = RSA.Create(2048);
        var rsaPath = Path.Combine(directory, "rsa.pem");
        File.WriteAllText(rsaPath, rsa.ExportRSAPrivateKeyPem());

        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var ed25519 = (Ed25519PrivateKeyParameters)generator.GenerateKeyPair().Private;
        var edPath = Path.Combine(directory, "ed25519.pem");
        File.WriteAllText(edPath, new string(PemEncoding.Write("PRIVATE KEY", PrivateKeyInfoFactory.CreatePrivateKeyInfo(ed25519).GetEncoded())));

        var records = new Dictionary<string, string>
        {
            [$"{Selector}._domainkey.{Domain}"] = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()),
            [$"{Ed25519Selector}._domainkey.{Domain}"] = "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(ed25519.GeneratePublicKey().GetEncoded()),
        };
        return (rsaPath, edPath, records);
    }
}
