using System.Globalization;
using Mailer.Tests.Support;

namespace Mailer.Tests.Bounces;

/// <summary>
/// A private Postfix and a private Dovecot (Debian's), in a temporary folder of their own, on free ports of 127.0.0.1:
/// Postfix takes mail for <c>subscribers.test</c> (mailboxes <see cref="Mailboxes"/>; any other user is accepted with 250
/// and then bounced with a real DSN, 5.1.1) and for <c>example.org</c>, where <c>bounces+tag@example.org</c> lands in the
/// maildir of <c>bounces</c>. Dovecot serves those maildirs over IMAP (plain login, passwd-file). Both are stopped on dispose.
/// <code>
/// await using var mail = await RealMailServers.StartAsync("good");
/// </code>
/// </summary>
public sealed class RealMailServers : IAsyncDisposable
{
    public const string Postfix = "/usr/sbin/postfix";
    public const string Dovecot = "/usr/sbin/dovecot";
    public const string BounceUser = "bounces";
    public const string BouncePassword = "bounce-test-password";
    public const string SubscriberDomain = "subscribers.test";

    private RealMailServers(string root, int smtpPort, int imapPort, IReadOnlyList<string> mailboxes) =>
        (Root, SmtpPort, ImapPort, Mailboxes) = (root, smtpPort, imapPort, mailboxes);

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _dovecotErrors = new();
    private System.Diagnostics.Process? _dovecot;

    public string Root { get; }

    public int SmtpPort { get; }

    public int ImapPort { get; }

    /// <summary>The users of <c>subscribers.test</c> that exist.</summary>
    public IReadOnlyList<string> Mailboxes { get; }

    private string PostfixConfig => Path.Combine(Root, "postfix");

    private string MailRoot => Path.Combine(Root, "mail");

    /// <summary>Mailer's settings for sending through this Postfix and reading the bounce mailbox in this Dovecot.</summary>
    public Dictionary<string, string?> MailerSettings(string? processedFolder = null) => new()
    {
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Smtp:Security"] = "None",
        ["Bounces:ReturnPath"] = "bounces@example.org",
        ["Bounces:Imap:Host"] = "127.0.0.1",
        ["Bounces:Imap:Port"] = ImapPort.ToString(CultureInfo.InvariantCulture),
        ["Bounces:Imap:Security"] = "None",
        ["Bounces:Imap:Username"] = BounceUser,
        ["Bounces:Imap:Password"] = BouncePassword,
        ["Bounces:Imap:ProcessedFolder"] = processedFolder,
    };

    /// <summary>The files delivered to <paramref name="user"/>'s maildir (new and cur).</summary>
    public IReadOnlyList<string> Delivered(string user)
    {
        var maildir = Path.Combine(MailRoot, user, "Maildir");
        return [.. new[] { "new", "cur" }.Select(d => Path.Combine(maildir, d)).Where(Directory.Exists).SelectMany(Directory.GetFiles)];
    }

    /// <summary>Postfix's log, for failure messages.</summary>
    public string PostfixLog => File.Exists(Path.Combine(Root, "maillog")) ? File.ReadAllText(Path.Combine(Root, "maillog")) : "(no maillog)";

    public static async Task<RealMailServers> StartAsync(params string[] mailboxes)
    {
        ExternalProgram.Require(Postfix, "postfix");
        ExternalProgram.Require(Dovecot, "dovecot-imapd");
        ExternalProgram.Require("/usr/lib/dovecot/imap", "dovecot-imapd");
        if (Environment.UserName != "root")
        {
            ExternalProgram.SkipOrFail("Postfix's master and Dovecot start as root (the tests run as " + Environment.UserName + ").");
        }

        var root = TestPaths.NewTemporaryDirectory("realmail");
        var servers = new RealMailServers(root, ExternalProgram.FreePort(), ExternalProgram.FreePort(), mailboxes);
        try
        {
            await servers.StartDovecotAsync();
            await servers.StartPostfixAsync();
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }

        return servers;
    }

    private async Task StartPostfixAsync()
    {
        Directory.CreateDirectory(PostfixConfig);
        Directory.CreateDirectory(Path.Combine(Root, "queue"));
        var data = Directory.CreateDirectory(Path.Combine(Root, "data"));
        await ExternalProgram.RunAsync("/bin/chown", ["postfix", data.FullName]);
        var maps = string.Join('\n', Mailboxes.Select(m => $"{m}@{SubscriberDomain} {m}/Maildir/").Append($"{BounceUser}@example.org {BounceUser}/Maildir/"));
        await File.WriteAllTextAsync(Path.Combine(PostfixConfig, "mailboxes"), maps + "\n");
        await File.WriteAllTextAsync(Path.Combine(PostfixConfig, "main.cf"), $"""
            compatibility_level = 3.6
            config_directory = {PostfixConfig}
            queue_directory = {Root}/queue
            data_directory = {Root}/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mx.mailer.test
            mydomain = mailer.test
            myorigin = $myhostname
            mydestination =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            # Unknown users are taken (250) and bounced afterwards, as a relay in front of the mailboxes does.
            smtpd_reject_unlisted_recipient = no
            local_recipient_maps =
            alias_maps =
            alias_database =
            virtual_mailbox_domains = example.org, {SubscriberDomain}
            virtual_mailbox_maps = texthash:{PostfixConfig}/mailboxes
            virtual_mailbox_base = {MailRoot}
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            recipient_delimiter = +
            maillog_file_prefixes = {Root}
            maillog_file = {Root}/maillog
            smtp_dns_support_level = disabled
            biff = no

            """);
        await File.WriteAllTextAsync(Path.Combine(PostfixConfig, "master.cf"), $"""
            127.0.0.1:{SmtpPort} inet n - n - - smtpd
            pickup unix n - n 60 1 pickup
            cleanup unix n - n - 0 cleanup
            qmgr unix n - n 300 1 qmgr
            rewrite unix - - n - - trivial-rewrite
            bounce unix - - n - 0 bounce
            defer unix - - n - 0 bounce
            trace unix - - n - 0 bounce
            verify unix - - n - 1 verify
            flush unix n - n 1000? 0 flush
            proxymap unix - - n - - proxymap
            smtp unix - - n - - smtp
            relay unix - - n - - smtp
            showq unix n - n - - showq
            error unix - - n - - error
            retry unix - - n - - error
            discard unix - - n - - discard
            local unix - n n - - local
            virtual unix - n n - - virtual
            anvil unix - - n - 1 anvil
            scache unix - - n - 1 scache
            postlog unix-dgram n - n - 1 postlogd

            """);
        var (exit, output) = await ExternalProgram.RunAsync(Postfix, ["-c", PostfixConfig, "start"]);
        if (exit != 0)
        {
            throw new InvalidOperationException($"postfix start: {exit} {output}\n{PostfixLog}");
        }

        await WaitForPortAsync(SmtpPort, () => null);
    }

    private async Task StartDovecotAsync()
    {
        var mail = Directory.CreateDirectory(MailRoot);
        Directory.CreateDirectory(Path.Combine(Root, "dovecot-run"));
        Directory.CreateDirectory(Path.Combine(Root, "dovecot-state"));
        await ExternalProgram.RunAsync("/bin/chown", ["nobody:nogroup", mail.FullName]);
        await File.WriteAllTextAsync(Path.Combine(Root, "passwd"), $"{BounceUser}:{{PLAIN}}{BouncePassword}::::::\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "dovecot.conf"), $$"""
            protocols = imap
            listen = 127.0.0.1
            base_dir = {{Root}}/dovecot-run
            state_dir = {{Root}}/dovecot-state
            log_path = {{Root}}/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain
            default_internal_user = dovecot
            default_login_user = dovenull
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%n {{Root}}/passwd
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home={{MailRoot}}/%n
            }
            mail_location = maildir:~/Maildir
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = {{ImapPort}}
              }
              inet_listener imaps {
                port = 0
              }
            }

            """);
        // In the foreground (-F), a child of the test: a daemon would keep the output pipes open, and the test holds its process.
        var start = new System.Diagnostics.ProcessStartInfo(Dovecot) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-F", "-c", Path.Combine(Root, "dovecot.conf") })
        {
            start.ArgumentList.Add(argument);
        }

        _dovecot = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("dovecot did not start");
        _dovecot.OutputDataReceived += (_, _) => { };
        _dovecot.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _dovecotErrors.Enqueue(e.Data); } };
        _dovecot.BeginOutputReadLine();
        _dovecot.BeginErrorReadLine();
        await WaitForPortAsync(ImapPort, () => _dovecot.HasExited ? $"dovecot exited: {string.Join('\n', _dovecotErrors)}" : null);
    }

    private static async Task WaitForPortAsync(int port, Func<string?> failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (failure() is { } reason)
            {
                throw new InvalidOperationException(reason);
            }

            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(PostfixConfig, "main.cf")))
        {
            await ExternalProgram.RunAsync(Postfix, ["-c", PostfixConfig, "stop"]);
        }

        if (_dovecot is { HasExited: false })
        {
            // SIGTERM: the master stops its own children (login, auth, imap processes) on the way out.
            await ExternalProgram.RunAsync("/bin/kill", ["-TERM", _dovecot.Id.ToString(CultureInfo.InvariantCulture)]);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _dovecot.WaitForExitAsync(limit.Token);
        }

        _dovecot?.Dispose();

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A server still closing a file; the temporary folder is left for the system to clean.
        }
    }
}
