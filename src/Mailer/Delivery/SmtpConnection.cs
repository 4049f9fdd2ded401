using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Mailer.Delivery;

/// <summary>
/// One SMTP connection for many messages, used by one caller at a time. It connects on the first message and
/// again on the next message after the connection broke; MailKit's own split decides the outcome:
/// a 5xx answer to the message is permanent, a 4xx answer, a protocol or I/O error or a timeout is transient.
/// </summary>
internal sealed class SmtpConnection(SmtpTransport transport) : IMailConnection
{
    /// <summary>After this long without a message, a NOOP checks that the server has not hung up meanwhile.</summary>
    private static readonly TimeSpan IdleCheckAfter = TimeSpan.FromSeconds(10);

    private SmtpClient? _client;
    private long _lastUsed;
    private bool _disposed;

    public async Task<SendResult> SendAsync(ComposedMail message, string? envelopeSender, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await transport.Pacer.WaitAsync(cancellationToken);

        SmtpClient client;
        try
        {
            client = await IsUsableAsync(cancellationToken) ? _client! : await ReconnectAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsConnectFailure(e))
        {
            // Refusals at greeting, TLS or login concern this sender, not the recipient: always worth a retry.
            DeliveryLog.ConnectFailed(transport.Logger, transport.Describe(), Describe(e));
            return SendResult.Transient($"connect: {Describe(e)}");
        }

        var handedOver = transport.Time.GetTimestamp();
        // The message written for this server (8bit only where it offers 8BITMIME) into a pooled buffer, signed over
        // those bytes, handed to MailKit as they are.
        using var bytes = new MailBuffer();
        var eightBit = (client.Capabilities & SmtpCapabilities.EightBitMime) != 0;
        var headerLength = message.WriteTo(bytes, eightBit);
        if (transport.Dkim is { IsEnabled: true } dkim)
        {
            headerLength = dkim.Sign(bytes, headerLength);
        }

        var wire = WireMessage.Create(bytes.WrittenMemory, headerLength, eightBit && message.IsEightBit);
        try
        {
            var sender = new MailboxAddress("", envelopeSender ?? message.Factory.Sender);
            var reply = await client.SendAsync(wire, sender, [message.RecipientMailbox], cancellationToken);
            _lastUsed = transport.Time.GetTimestamp();
            transport.Metrics?.SmtpAnswer(transport.Time.GetElapsedTime(handedOver, _lastUsed), accepted: true);
            return SendResult.Accepted($"250 {reply}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Halfway through a transaction the connection's state is unknown: start afresh next time.
            Close();
            throw;
        }
        catch (SmtpCommandException e)
        {
            // MailKit resets the transaction and stays connected after a refusal (unless the server hung up).
            transport.Metrics?.SmtpAnswer(transport.Time.GetElapsedTime(handedOver), accepted: false);
            var code = (int)e.StatusCode;
            var reply = $"{code} {e.Message}";
            if (code is >= 500 and < 600 && e.ErrorCode != SmtpErrorCode.SenderNotAccepted)
            {
                DeliveryLog.Refused(transport.Logger, transport.Describe(), code);
                return SendResult.Permanent(reply);
            }

            // 4xx, and a refused sender (our configuration or reputation, not this recipient): try again later.
            DeliveryLog.Deferred(transport.Logger, transport.Describe(), code);
            return SendResult.Transient(reply);
        }
        catch (ServiceNotAuthenticatedException e)
        {
            // 530 to MAIL FROM: the relay wants a login (Smtp:Username) — configuration, not this recipient.
            DeliveryLog.Deferred(transport.Logger, transport.Describe(), (int)SmtpStatusCode.AuthenticationRequired);
            return SendResult.Transient($"{(int)SmtpStatusCode.AuthenticationRequired} {e.Message}");
        }
        catch (NotSupportedException e)
        {
            // The message needs what the server lacks, e.g. SMTPUTF8 for an address with non-ASCII before the @.
            DeliveryLog.Unsupported(transport.Logger, transport.Describe());
            return SendResult.Permanent($"not supported by the server: {e.Message}");
        }
        catch (Exception e) when (IsBrokenConnection(e))
        {
            Close();
            DeliveryLog.ConnectionBroken(transport.Logger, transport.Describe(), Describe(e));
            return SendResult.Transient($"connection: {Describe(e)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_client is { IsConnected: true } client)
        {
            try
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(quit: true, limit.Token);
            }
            catch (Exception e) when (IsBrokenConnection(e) || e is SmtpCommandException)
            {
                // Saying goodbye is a courtesy; the socket closes below either way.
            }
        }

        Close();
    }

    /// <summary>
    /// Whether the current connection can take the next message. Servers close idle connections (Postfix after
    /// 5 minutes); a connection that waited a while is asked with NOOP first, so a message is not failed for that.
    /// </summary>
    private async Task<bool> IsUsableAsync(CancellationToken cancellationToken)
    {
        if (_client is not { IsConnected: true } client)
        {
            return false;
        }

        if (transport.Time.GetElapsedTime(_lastUsed) < IdleCheckAfter)
        {
            return true;
        }

        try
        {
            await client.NoOpAsync(cancellationToken);
            _lastUsed = transport.Time.GetTimestamp();
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && (IsBrokenConnection(e) || e is SmtpCommandException))
        {
            return false;
        }
    }

    private async Task<SmtpClient> ReconnectAsync(CancellationToken cancellationToken)
    {
        Close();
        _client = await transport.ConnectAsync(cancellationToken);
        _lastUsed = transport.Time.GetTimestamp();
        return _client;
    }

    private void Close()
    {
        _client?.Dispose();
        _client = null;
    }

    private static bool IsBrokenConnection(Exception e) =>
        e is SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException
            or TimeoutException or OperationCanceledException;

    /// <summary>Also refusals (greeting, login) and what the server lacks (STARTTLS when required, a login mechanism).</summary>
    private static bool IsConnectFailure(Exception e) =>
        IsBrokenConnection(e) || e is SmtpCommandException or AuthenticationException or SslHandshakeException or NotSupportedException;

    private static string Describe(Exception e) => e switch
    {
        SmtpCommandException command => $"{(int)command.StatusCode} {command.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
