using System.Security.Cryptography;
using System.Text;
using Mailer.Hosting;
using Microsoft.Extensions.Options;

namespace Mailer.Links;

/// <summary>
/// The secret behind every link token: <c>Mailer:SigningKey</c>, or outside Production a key generated once
/// and kept in <c>{DataDirectory}/signing.key</c>, so links in mails already sent keep working after a restart.
/// </summary>
public sealed class SigningKey
{
    public SigningKey(IOptions<MailerOptions> options, IHostEnvironment environment)
    {
        var configured = options.Value.SigningKey;
        if (!string.IsNullOrEmpty(configured))
        {
            Bytes = Encoding.UTF8.GetBytes(configured);
            return;
        }

        if (environment.IsProduction())
        {
            // The start validates this already (HostingSetup); a key generated here would differ on every instance.
            throw new OptionsValidationException(MailerOptions.Section, typeof(MailerOptions), [MailerOptions.SigningKeyRequired]);
        }

        var dataDirectory = ContentRoot.Combine(environment.ContentRootPath, options.Value.DataDirectory);
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "signing.key");
        if (!File.Exists(path))
        {
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            File.Move(temporary, path, overwrite: false);
        }

        Bytes = Convert.FromBase64String(File.ReadAllText(path).Trim());
    }

    public SigningKey(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }
}
