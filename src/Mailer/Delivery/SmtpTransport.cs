using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mailer.Delivery.Dkim;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;

namespace Mailer.Delivery;

/// <summary>
/// Sends over SMTP with MailKit. Each connection connects on its first message and then carries many; all
/// connections share one pace (<see cref="SmtpOptions.MaxMessagesPerSecond"/>).
/// </summary>
public sealed class SmtpTransport : IMailTransport
{
    /// <summary>The health check's limit for connect, greeting and goodbye, unless <see cref="SmtpOptions.Timeout"/> is shorter.</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly SmtpOptions _options;
    private readonly string _host;
    private readonly SecureSocketOptions _security;
    private readonly DkimSigning? _dkim;
    private readonly RelayTrust _trust;

    /// <param name="dkim">Signs each message once it is written for the server; null or off: unsigned.</param>
    /// <param name="metrics">Times each server answer; null: not measured.</param>
    public SmtpTransport(IOptions<SmtpOptions> options, TimeProvider time, ILogger<SmtpTransport> logger, DkimSigning? dkim = null,
        Observability.MailerMetrics? metrics = null)
    {
        _options = options.Value;
        _host = _options.Host?.Trim() ?? throw new ArgumentException("Smtp:Host is required for SMTP.", nameof(options));
        _security = _options.Security.ToSecureSocketOptions();
        Pacer = new SendPacer(time, _options.MaxMessagesPerSecond);
        _dkim = dkim;
        _trust = new RelayTrust(_options);
        Time = time;
        Logger = logger;
        Metrics = metrics;
    }

    internal SendPacer Pacer { get; }

    /// <summary>Signs each message once it is written for its server; null or off: unsigned.</summary>
    internal DkimSigning? Dkim => _dkim;

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal Observability.MailerMetrics? Metrics { get; }

    public Task<IMailConnection> OpenAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IMailConnection>(new SmtpConnection(this));

    public string Describe() => $"smtp {_host}:{_options.Port} ({_options.Security})";

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var timeout = _options.Timeout < CheckTimeout ? _options.Timeout : CheckTimeout;
        using var client = await ConnectAsync(timeout, cancellationToken);
        await client.NoOpAsync(cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>A connected (and authenticated) client, or an exception saying why not.</summary>
    internal Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken) => ConnectAsync(_options.Timeout, cancellationToken);

    private async Task<SmtpClient> ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var client = new WireSmtpClient();
        client.Timeout = (int)timeout.TotalMilliseconds;
        if (!string.IsNullOrEmpty(_options.HeloName))
        {
            client.LocalDomain = _options.HeloName;
        }

        var handshake = _trust.Begin();
        client.ServerCertificateValidationCallback = handshake.Check;
        try
        {
            var socket = await ConnectSocketAsync(timeout, cancellationToken);
            // The client owns the socket from here on and closes it with the connection.
            try
            {
                await client.ConnectAsync(socket, _host, _options.Port, _security, cancellationToken);
            }
            catch (SslHandshakeException e) when (handshake.Refusal is { } refusal)
            {
                throw new SslHandshakeException($"TLS with {_host}:{_options.Port}: the relay's certificate was refused: {refusal}. "
                    + "Trust it with Smtp:TrustedCertificateSha256 (its SHA-256) or Smtp:TrustedCaFile (a PEM file of the CA that signed it), "
                    + "or set Smtp:Host to a name the certificate holds.", e);
            }

            if (_options.HasCredentials)
            {
                await client.AuthenticateAsync(_options.Username, _options.Password, cancellationToken);
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }

        DeliveryLog.Connected(Logger, Describe(), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return client;
    }

    /// <summary>
    /// A connected TCP socket with Nagle's algorithm off. MailKit writes a command and then waits for the answer;
    /// with Nagle on, a reused connection stalls on the peer's delayed ACK (about 40 ms a message).
    /// </summary>
    private async Task<Socket> ConnectSocketAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        // Dual mode: tries each address the name resolves to, IPv6 and IPv4.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(_host, _options.Port), limit.Token);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"No connection to {_host}:{_options.Port} within {timeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
