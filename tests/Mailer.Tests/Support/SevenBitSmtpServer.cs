using System.Net;
using System.Net.Sockets;
using System.Text;
using Mailer.Delivery;

namespace Mailer.Tests.Support;

/// <summary>
/// An SMTP server that does not offer 8BITMIME, as old relays and some gateways still are. <see cref="TestSmtpServer"/>
/// always offers it, so this one speaks just enough SMTP over loopback: EHLO without 8BITMIME, any number of
/// messages over one connection at a time, each kept as its DATA with the dot-stuffing undone.
/// </summary>
public sealed class SevenBitSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<byte[]> _messages = [];
    private readonly Task _serving;
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SevenBitSmtpServer()
    {
        _listener.Start();
        _serving = ServeAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The DATA of each message accepted so far.</summary>
    public IReadOnlyList<byte[]> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public SmtpOptions SmtpOptions() => new() { Host = "127.0.0.1", Port = Port, Security = SmtpSecurity.None, Timeout = TimeSpan.FromSeconds(10) };

    public async Task WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        while (true)
        {
            Task arrived;
            lock (_gate)
            {
                if (_messages.Count >= count)
                {
                    return;
                }

                arrived = _arrived.Task;
            }

            try
            {
                await arrived.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Expected {count} messages within {timeout}, got {Messages.Count}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            try
            {
                await ServeConnectionAsync(client);
            }
            catch (IOException)
            {
                // The client hung up; wait for the next one.
            }
        }
    }

    private async Task ServeConnectionAsync(TcpClient client)
    {
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 seven-bit test server");
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            switch (line.Split(' ')[0].ToUpperInvariant())
            {
                case "EHLO":
                    await writer.WriteLineAsync("250-seven-bit\r\n250 SIZE 10485760");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 go ahead");
                    var data = new MemoryStream();
                    while (await reader.ReadLineAsync(_stop.Token) is { } body && body != ".")
                    {
                        data.Write(Encoding.Latin1.GetBytes((body.StartsWith('.') ? body[1..] : body) + "\r\n"));
                    }

                    Add(data.ToArray());
                    await writer.WriteLineAsync("250 2.0.0 queued");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("250 ok");
                    break;
            }
        }
    }

    private void Add(byte[] message)
    {
        lock (_gate)
        {
            _messages.Add(message);
            _arrived.TrySetResult();
            _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
