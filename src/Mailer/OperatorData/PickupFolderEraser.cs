using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Signups;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.OperatorData;

/// <summary>
/// The part of <c>erase</c> outside the store: the <c>.eml</c> files of the pickup folder (<c>Smtp:PickupDirectory</c>)
/// addressed to the person. A file is theirs when one of its To, Cc or Bcc addresses, normalized as everywhere
/// (<see cref="EmailAddress.Normalize"/>), is theirs; only the headers are read. The folder is searched even while an
/// SMTP relay is configured: files written before it was set may still lie there.
/// </summary>
public sealed class PickupFolderEraser(IOptions<SmtpOptions> smtp, IHostEnvironment environment, ILogger<PickupFolderEraser> logger)
{
    /// <summary>The pickup folder, as the transport resolves it.</summary>
    public string Directory => ContentRoot.Combine(environment.ContentRootPath, smtp.Value.PickupDirectory);

    /// <summary>Deletes the files addressed to <paramref name="normalizedEmail"/>; returns how many.</summary>
    public async Task<int> EraseAsync(string normalizedEmail, CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.eml"))
        {
            try
            {
                if (await IsAddressedToAsync(file, normalizedEmail, cancellationToken))
                {
                    File.Delete(file);
                    removed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                OperatorDataLog.PickupFileNotErased(logger, Path.GetFileName(file), e.GetType().Name);
            }
        }

        return removed;
    }

    private static async Task<bool> IsAddressedToAsync(string file, string normalizedEmail, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        var headers = await HeaderList.LoadAsync(stream, cancellationToken);
        return new[] { HeaderId.To, HeaderId.Cc, HeaderId.Bcc }
            .SelectMany(id => headers.Where(h => h.Id == id))
            .SelectMany(h => InternetAddressList.TryParse(h.Value, out var list) ? list.Mailboxes : [])
            .Any(mailbox => EmailAddress.Normalize(mailbox.Address, out var address) == EmailProblem.None && address == normalizedEmail);
    }
}
