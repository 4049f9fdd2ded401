using Hangfire;
using Mailer.Delivery;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

/// <summary>
/// Reads the bounce mailbox (<c>Bounces:Imap</c>) every <c>Bounces:PollInterval</c>: each message not yet processed is
/// classified and recorded (<see cref="BounceIntake"/>), then moved to <c>Bounces:Imap:ProcessedFolder</c> or, without
/// one, marked \Seen with the keyword <c>$MailerProcessed</c>. Nothing is ever deleted, so an operator can read what
/// came back. Safe to run twice, also at once: a message is marked only after its report is recorded, and a report
/// recorded before (a run that died before marking it, or a second job beside this one) counts once by its key.
/// </summary>
public sealed class BounceMailboxJob(BounceIntake intake, IOptions<BouncesOptions> options, ILogger<BounceMailboxJob> logger)
{
    public const string RecurringId = "bounce-mailbox";

    /// <summary>The keyword a processed message gets when it stays in its folder.</summary>
    public const string ProcessedKeyword = "$MailerProcessed";

    /// <summary>Messages read per run at most; the next run takes the rest.</summary>
    internal const int MaxPerRun = 500;

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var imap = options.Value.Imap;
        if (!imap.IsConfigured)
        {
            return;
        }

        using var client = new ImapClient { Timeout = (int)imap.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(imap.Host!.Trim(), imap.Port, imap.Security.ToSecureSocketOptions(), cancellationToken);
            await client.AuthenticateAsync(imap.Username ?? "", imap.Password ?? "", cancellationToken);
            var folder = await client.GetFolderAsync(imap.Folder, cancellationToken);
            await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
            var processed = string.IsNullOrWhiteSpace(imap.ProcessedFolder) ? null : await ProcessedFolderAsync(client, imap.ProcessedFolder.Trim(), cancellationToken);
            await ReadAsync(folder, processed, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or System.Net.Sockets.SocketException
                                      or ImapProtocolException or ImapCommandException or MailKit.Security.AuthenticationException
                                      or FolderNotFoundException or TimeoutException)
        {
            // The next run tries again; whatever was recorded stays recorded, whatever was not marked is read again.
            BouncesLog.MailboxFailed(logger, $"{imap.Host}:{imap.Port}", $"{e.GetType().Name}: {e.Message}");
        }
    }

    private async Task ReadAsync(IMailFolder folder, IMailFolder? processed, CancellationToken cancellationToken)
    {
        // Keywords where the server keeps them (Dovecot, Cyrus, most others), else \Seen alone.
        var useKeyword = processed is null
            && (folder.PermanentFlags.HasFlag(MessageFlags.UserDefined) || folder.PermanentKeywords.Contains(ProcessedKeyword));
        var query = processed is not null ? SearchQuery.All : useKeyword ? SearchQuery.NotKeyword(ProcessedKeyword) : SearchQuery.NotSeen;
        var uids = await folder.SearchAsync(query, cancellationToken);
        int recorded = 0, duplicates = 0, autoReplies = 0, ignored = 0;
        foreach (var uid in uids.Take(MaxPerRun))
        {
            var message = await folder.GetMessageAsync(uid, cancellationToken);
            var result = await intake.TakeAsync(message, cancellationToken);
            switch (result)
            {
                case { Outcome: BounceOutcome.Duplicate }:
                    duplicates++;
                    break;
                case { Kind: BounceKind.AutoReply, Outcome: not null }:
                    autoReplies++;
                    break;
                case { Outcome: BounceOutcome.Recorded or BounceOutcome.Suppressed or BounceOutcome.Unsubscribed }:
                    recorded++;
                    break;
                default:
                    ignored++;
                    break;
            }

            if (processed is not null)
            {
                await folder.MoveToAsync(uid, processed, cancellationToken);
            }
            else
            {
                var mark = new StoreFlagsRequest(StoreAction.Add, MessageFlags.Seen) { Silent = true };
                if (useKeyword)
                {
                    mark.Keywords.Add(ProcessedKeyword);
                }

                await folder.StoreAsync(uid, mark, cancellationToken);
            }
        }

        BouncesLog.MailboxRead(logger, folder.FullName, Math.Min(uids.Count, MaxPerRun), recorded, duplicates, autoReplies, ignored);
    }

    private static async Task<IMailFolder> ProcessedFolderAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetFolderAsync(name, cancellationToken);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            return await root.CreateAsync(name, isMessageFolder: true, cancellationToken)
                ?? throw new InvalidOperationException($"Bounces:Imap:ProcessedFolder '{name}' could not be created.");
        }
    }
}
