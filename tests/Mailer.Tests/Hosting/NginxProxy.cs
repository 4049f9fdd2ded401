using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mailer.Tests.Support;

namespace Mailer.Tests.Hosting;

/// <summary>
/// Debian's nginx in front of a Mailer on a real port, as <c>deploy/nginx/mailer.conf</c> sets it up: its own
/// configuration, pid, logs and temp folders in a temp directory, listening on 127.0.0.1 at a free port, forwarding with
/// the repository's <c>deploy/nginx/mailer-proxy.conf</c> (the headers of the production site). nginx connects to
/// Mailer from 127.0.0.1.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NginxProxy(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public static async Task<NginxProxy> StartAsync(int mailerPort)
    {
        var nginx = ExternalProgram.Require("/usr/sbin/nginx", "nginx");
        var directory = TestPaths.NewTemporaryDirectory("nginx");
        var port = ExternalProgram.FreePort();
        var headers = Path.Combine(TestPaths.RepositoryRoot, "deploy", "nginx", "mailer-proxy.conf");
        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 64; }
            http {
                access_log {{directory}}/access.log;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                server {
                    listen 127.0.0.1:{{port}};
                    server_name localhost;
                    location / {
                        proxy_pass http://127.0.0.1:{{mailerPort}};
                        include {{headers}};
                    }
                }
            }
            """);

        var start = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-p", directory, "-c", config, "-e", Path.Combine(directory, "error.log") })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        var proxy = new NginxProxy(process, directory, port);
        await proxy.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        return proxy;
    }

    /// <summary>A client whose connections to nginx (or anywhere) leave from <paramref name="source"/>, e.g. 127.0.0.2.</summary>
    public static HttpClient ClientFrom(string source, Uri baseAddress)
    {
        var local = new IPEndPoint(IPAddress.Parse(source), 0);
        var handler = new SocketsHttpHandler
        {
            UseCookies = true,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(local);
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>What nginx logged, for a failure message.</summary>
    public string ErrorLog() => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "";

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_process.ExitCode}: {await _process.StandardError.ReadToEndAsync()} {ErrorLog()}");
            }

            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"nginx did not listen on {Port} within {timeout}: {ErrorLog()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
