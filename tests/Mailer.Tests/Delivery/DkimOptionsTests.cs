using System.Security.Cryptography;
using Mailer.Delivery.Dkim;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Delivery;

public class DkimOptionsTests
{
    private static ValidateOptionsResult Validate(DkimOptions options, string from = "Kampagne <kampagne@example.org>") =>
        new DkimOptionsValidator(Options.Create(TestOptions.Mailer(m => m.From = from)), TestDkimKeys.Environment()).Validate(null, options);

    private static string Key(Func<RSA, string> pem, int bits = 2048)
    {
        using var rsa = RSA.Create(bits);
        var path = Path.Combine(TestPaths.NewTemporaryDirectory("dkim-key"), "key.pem");
        File.WriteAllText(path, pem(rsa));
        return path;
    }

    [Fact]
    public void Unset_IsOff_AndValid()
    {
        Assert.True(Validate(new DkimOptions()).Succeeded);
        Assert.False(TestDkimKeys.Signing(options: new DkimOptions()).IsEnabled);
    }

    [Fact]
    public void TheTestKeys_AreValid_AndAParentOfFromsDomainIsAligned()
    {
        Assert.True(Validate(TestDkimKeys.Options()).Succeeded);
        Assert.True(Validate(TestDkimKeys.Options(), "kampagne@news.example.org").Succeeded);
    }

    [Theory]
    [InlineData("missing", "Dkim:PrivateKeyPath: ", "does not exist")]
    [InlineData("public", "Dkim:PrivateKeyPath: ", "holds a PUBLIC KEY")]
    [InlineData("short", "Dkim:PrivateKeyPath: ", "has 1024 bits; at least 2048")]
    [InlineData("garbage", "Dkim:PrivateKeyPath: ", "is not a PEM file")]
    [InlineData("misaligned", "Dkim:Domain 'example.net'", "Mailer:From ('example.org')")]
    [InlineData("tld", "Dkim:Domain 'org'", "Mailer:From ('example.org')")]
    [InlineData("partial", "Dkim:PrivateKeyPath is required", "together")]
    [InlineData("ed25519-is-rsa", "Dkim:Ed25519PrivateKeyPath: ", "is not an Ed25519 private key")]
    [InlineData("ed25519-alone", "Dkim:Ed25519Selector and Dkim:Ed25519PrivateKeyPath", "Dkim:Domain")]
    public void WrongSetting_IsRefused_NamingTheKey(string @case, string start, string reason)
    {
        var options = TestDkimKeys.Options(ed25519: false);
        switch (@case)
        {
            case "missing": options.PrivateKeyPath = "/nonexistent/dkim.pem"; break;
            case "public": options.PrivateKeyPath = Key(rsa => rsa.ExportSubjectPublicKeyInfoPem()); break;
            case "short": options.PrivateKeyPath = Key(rsa => rsa.ExportPkcs8PrivateKeyPem(), 1024); break;
            case "garbage": options.PrivateKeyPath = Key(_ => "not a key"); break;
            case "misaligned": options.Domain = "example.net"; break;
            case "tld": options.Domain = "org"; break;
            case "partial": options.PrivateKeyPath = null; break;
            case "ed25519-is-rsa": (options.Ed25519Selector, options.Ed25519PrivateKeyPath) = ("ed", TestDkimKeys.RsaPath); break;
            case "ed25519-alone": options = new DkimOptions { Ed25519Selector = "ed", Ed25519PrivateKeyPath = TestDkimKeys.Ed25519Path }; break;
        }

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(start, StringComparison.Ordinal) && f.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MisalignedDomain_StopsTheStart()
    {
        await using var app = new MailerAppFactory();
        foreach (var (key, value) in TestDkimKeys.Settings())
        {
            app.Settings[key] = value;
        }

        app.Settings["Dkim:Domain"] = "example.net";

        var error = Assert.ThrowsAny<Exception>(() => app.Services.GetRequiredService<IOptions<DkimOptions>>());
        Assert.Contains("Dkim:Domain 'example.net'", error.ToString(), StringComparison.Ordinal);
    }
}
