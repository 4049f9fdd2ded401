using Mailer.Delivery.Dkim;

namespace Mailer.Delivery;

/// <summary>
/// Writes each message as one <c>.eml</c> file into a folder (no <c>Smtp:Host</c> set): for development, for
/// previews, or for a local MTA that collects a pickup folder. A file is written under a hidden temporary name
/// and renamed when complete, so whoever reads <c>*.eml</c> never sees half a message. With <c>Dkim</c> set,
/// each file is signed as it is written (7bit).
/// </summary>
public sealed class PickupDirectoryTransport(string directory, TimeProvider time, ILogger<PickupDirectoryTransport> logger, DkimSigning? dkim = null)
    : IMailTransport
{
    /// <summary>The folder, as an absolute path.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    public Task<IMailConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Opening does not fail: each message reports the folder's trouble as a transient result.
        }

        return Task.FromResult<IMailConnection>(new Connection(this));
    }

    public string Describe() => $"pickup folder {Directory}";

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var probe = Path.Combine(Directory, $".probe-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(probe, [], cancellationToken);
        File.Delete(probe);
    }

    private async Task<SendResult> WriteAsync(ComposedMail message, string? envelopeSender, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var temporary = Path.Combine(Directory, $".tmp-{id}");
        var name = $"{time.GetUtcNow():yyyyMMdd'T'HHmmssfff'Z'}-{id}.eml";
        try
        {
            // 7-bit clean, as for an SMTP server without 8BITMIME: whoever picks the file up may not take 8bit.
            // Signed after that, so the signature covers the file as written.
            using var bytes = new MailBuffer();
            var headerLength = message.WriteTo(bytes, eightBit: false);
            if (dkim is { IsEnabled: true })
            {
                dkim.Sign(bytes, headerLength);
            }

            if (envelopeSender is not null)
            {
                // Where an MTA's final delivery records the envelope sender; unsigned, so the signature still holds.
                bytes.Insert(0, System.Text.Encoding.UTF8.GetBytes($"Return-Path: <{envelopeSender}>\r\n"));
            }

            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await file.WriteAsync(bytes.WrittenMemory, cancellationToken);
            }

            File.Move(temporary, Path.Combine(Directory, name));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            DeleteQuietly(temporary);
            if (e is OperationCanceledException)
            {
                throw;
            }

            DeliveryLog.WriteFailed(logger, Directory, e.Message);
            return SendResult.Transient($"pickup: {e.GetType().Name}: {e.Message}");
        }

        DeliveryLog.Written(logger, name);
        return SendResult.Accepted($"pickup: {name}");
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The folder itself failed; the write's error is the one to report.
        }
    }

    private sealed class Connection(PickupDirectoryTransport transport) : IMailConnection
    {
        public Task<SendResult> SendAsync(ComposedMail message, string? envelopeSender, CancellationToken cancellationToken) =>
            transport.WriteAsync(message, envelopeSender, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
