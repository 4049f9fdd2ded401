using System.Net.Sockets;
using Mailer.Tests.Support;

namespace Mailer.Tests.Delivery;

/// <summary>
/// Debian's Postfix as a private instance for one test: its own <c>main.cf</c> and <c>master.cf</c>, queue, data and log
/// under a temp folder (<c>postfix -c DIR start</c>), smtpd on 127.0.0.1 at a free port offering STARTTLS with a
/// self-signed certificate made by openssl for <c>relay.test</c> and IP 127.0.0.1, relaying for 127.0.0.0/8 and
/// delivering every accepted mail to the <c>discard</c> transport (its log line says <c>status=sent</c>).
/// </summary>
public sealed class PostfixRelay : IAsyncDisposable
{
    private readonly string _postfix;

    private PostfixRelay(string postfix, string directory, int port)
    {
        _postfix = postfix;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The server's certificate (also its own CA: self-signed), PEM.</summary>
    public string CertificateFile => Path.Combine(Directory, "relay.pem");

    private string ConfigDirectory => Path.Combine(Directory, "etc");

    private string LogFile => Path.Combine(Directory, "postfix.log");

    public static async Task<PostfixRelay> StartAsync()
    {
        var postfix = ExternalProgram.Require("/usr/sbin/postfix", "postfix");
        var openssl = ExternalProgram.Require("/usr/bin/openssl", "openssl");
        var directory = TestPaths.NewTemporaryDirectory("postfix");
        var port = ExternalProgram.FreePort();
        foreach (var folder in new[] { "etc", "queue", "data" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(directory, folder));
        }

        // Postfix's daemons run as the user postfix: the folders on the way must let it pass, its data folder is its own.
        var chmod = await ExternalProgram.RunAsync("/bin/chmod", ["755", directory, Path.GetDirectoryName(directory)!]);
        Assert.True(chmod.ExitCode == 0, chmod.Output);
        var chown = await ExternalProgram.RunAsync("/bin/chown", ["postfix", Path.Combine(directory, "data")]);
        Assert.True(chown.ExitCode == 0, chown.Output);

        var certificate = await ExternalProgram.RunAsync(openssl,
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=relay.test",
            "-addext", "subjectAltName=DNS:relay.test,IP:127.0.0.1",
            "-keyout", Path.Combine(directory, "relay.key"), "-out", Path.Combine(directory, "relay.pem"),
        ]);
        Assert.True(certificate.ExitCode == 0, certificate.Output);

        await File.WriteAllTextAsync(Path.Combine(directory, "etc", "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {directory}/queue
            data_directory = {directory}/data
            mail_owner = postfix
            setgid_group = postdrop
            maillog_file = {directory}/postfix.log
            maillog_file_prefixes = {directory}
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            myhostname = relay.test
            mydestination =
            mynetworks = 127.0.0.0/8
            alias_maps =
            alias_database =
            default_transport = discard:
            local_transport = discard:
            relay_transport = discard:
            smtpd_relay_restrictions = permit_mynetworks, reject
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = {directory}/relay.pem
            smtpd_tls_key_file = {directory}/relay.key

            """);
        await File.WriteAllTextAsync(Path.Combine(directory, "etc", "master.cf"), $"""
            127.0.0.1:{port} inet n - n - - smtpd
            cleanup   unix n - n - 0 cleanup
            qmgr      unix n - n 300 1 qmgr
            tlsmgr    unix - - n 1000? 1 tlsmgr
            rewrite   unix - - n - - trivial-rewrite
            bounce    unix - - n - 0 bounce
            defer     unix - - n - 0 bounce
            trace     unix - - n - 0 bounce
            verify    unix - - n - 1 verify
            flush     unix n - n 1000? 0 flush
            proxymap  unix - - n - - proxymap
            showq     unix n - n - - showq
            error     unix - - n - - error
            retry     unix - - n - - error
            discard   unix - - n - - discard
            anvil     unix - - n - 1 anvil
            scache    unix - - n - 1 scache
            postlog   unix-dgram n - n - 1 postlogd

            """);

        var relay = new PostfixRelay(postfix, directory, port);
        var start = await ExternalProgram.RunAsync(postfix, ["-c", relay.ConfigDirectory, "start"]);
        if (start.ExitCode != 0)
        {
            Assert.Fail($"postfix start: {start.Output}\n{relay.Log()}");
        }

        await relay.WaitUntilListeningAsync();
        return relay;
    }

    /// <summary>Postfix's log so far.</summary>
    public string Log() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log)";

    /// <summary>Waits until the discard transport has taken <paramref name="count"/> messages (its log lines).</summary>
    public async Task WaitForDeliveriesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Deliveries() < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Postfix delivered {Deliveries()} of {count} messages within {timeout}:\n{Log()}");
            }

            await Task.Delay(100);
        }
    }

    public int Deliveries() => Log().Split('\n').Count(line => line.Contains("postfix/discard[", StringComparison.Ordinal) && line.Contains("status=sent", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await ExternalProgram.RunAsync(_postfix, ["-c", ConfigDirectory, "stop"]);
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                Assert.Fail($"Postfix does not listen on 127.0.0.1:{Port}:\n{Log()}");
            }
        }
    }
}
