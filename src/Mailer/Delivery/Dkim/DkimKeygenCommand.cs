using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Mailer.Cli;
using Mailer.Hosting;
using Microsoft.Extensions.Options;
using MimeKit;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Mailer.Delivery.Dkim;

/// <summary>
/// <c>dkim-keygen --selector S [--out PATH] [--ed25519]</c>: writes a new private key (RSA 2048, or Ed25519) as
/// PEM with mode 0600, never over an existing file, and prints the DNS TXT record to publish and the settings to
/// set. It reads the <c>Dkim</c> section without checking it: the key it creates is what those settings point at.
/// </summary>
public sealed partial class DkimKeygenCommand(IConfiguration configuration, IOptions<MailerOptions> mailer, IHostEnvironment environment)
    : IOperatorCommand
{
    public string Verb => "dkim-keygen";

    public string Usage => "dkim-keygen --selector NAME [--out PATH] [--ed25519]";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var selector = arguments.Option("selector") ?? throw new UsageException("Missing --selector NAME (e.g. mailer2024).");
        if (!Selector().IsMatch(selector))
        {
            throw new UsageException($"--selector '{selector}' must be letters, digits and hyphens (dots between parts), such as mailer2024.");
        }

        var ed25519 = arguments.Flag("ed25519");
        var configured = configuration.GetSection(DkimOptions.Section).Get<DkimOptions>() ?? new DkimOptions();
        var outOption = arguments.Option("out");
        arguments.EnsureNoOthers(0);

        var domain = string.IsNullOrWhiteSpace(configured.Domain) ? MailboxAddress.Parse(mailer.Value.From).Domain.ToLowerInvariant() : configured.NormalizedDomain;
        var path = ContentRoot.Combine(environment.ContentRootPath, outOption ?? DefaultPath(configured, selector, ed25519));
        if (File.Exists(path))
        {
            await output.WriteLineAsync($"{path} exists; dkim-keygen never overwrites a key. Choose another --out (and a new --selector for a new key).");
            return 1;
        }

        var (pem, record) = ed25519 ? NewEd25519() : NewRsa();
        Write(path, pem);

        var (selectorKey, pathKey) = ed25519 ? ("Dkim:Ed25519Selector", "Dkim:Ed25519PrivateKeyPath") : ("Dkim:Selector", "Dkim:PrivateKeyPath");
        await output.WriteLineAsync($"Wrote a new {(ed25519 ? "Ed25519" : $"RSA-{RsaBits}")} private key to {path} (mode 0600).");
        await output.WriteLineAsync();
        await output.WriteLineAsync("Publish this DNS record (type TXT; the quoted strings are one value, joined without spaces):");
        await output.WriteLineAsync();
        await output.WriteLineAsync(DkimKeys.ZoneLine(selector, domain, record));
        await output.WriteLineAsync();
        await output.WriteLineAsync("Then, once `dig +short TXT " + $"{selector}._domainkey.{domain}` shows it, set:");
        await output.WriteLineAsync($"  Dkim:Domain={domain}");
        await output.WriteLineAsync($"  {selectorKey}={selector}");
        await output.WriteLineAsync($"  {pathKey}={path}");
        return 0;
    }

    private const int RsaBits = 2048;

    private string DefaultPath(DkimOptions configured, string selector, bool ed25519)
    {
        var fromSettings = ed25519 ? configured.Ed25519PrivateKeyPath : configured.PrivateKeyPath;
        return string.IsNullOrWhiteSpace(fromSettings)
            ? Path.Combine(mailer.Value.DataDirectory, "dkim", ed25519 ? $"{selector}.ed25519.pem" : $"{selector}.pem")
            : fromSettings.Trim();
    }

    private static (string Pem, string Record) NewRsa()
    {
        using var rsa = RSA.Create(RsaBits);
        return (rsa.ExportPkcs8PrivateKeyPem(), DkimKeys.RsaRecord(rsa));
    }

    private static (string Pem, string Record) NewEd25519()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var key = (Ed25519PrivateKeyParameters)generator.GenerateKeyPair().Private;
        var der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).GetEncoded();
        return (new string(PemEncoding.Write("PRIVATE KEY", der)) + "\n", DkimKeys.Ed25519Record(key));
    }

    /// <summary>Creates the file (and its folder, mode 0700) readable by this user only; fails if it appeared meanwhile.</summary>
    private static void Write(string path, string pem)
    {
        var directory = Path.GetDirectoryName(path)!;
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new StreamWriter(new FileStream(path, options));
        file.Write(pem);
    }

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex Selector();
}
