using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Mailer.Tests.Support;

/// <summary>The test server's parts plugged into the SmtpServer package: listener, pipe, recipient filter, message store.</summary>
public sealed partial class TestSmtpServer
{
    /// <summary>
    /// Listens like the package's own listener, but with Nagle's algorithm off, as production servers answer: the
    /// server writes a short reply to each pipelined command, and with Nagle on every second reply waits for the
    /// client's delayed ACK (about 40 ms a message), which would hide the client's own speed.
    /// </summary>
    private sealed class NoDelayListenerFactory(TestSmtpServer server) : EndpointListenerFactory
    {
        public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new TcpListener(endpointDefinition.Endpoint);
            listener.Start();
            var started = new EndpointEventArgs(endpointDefinition, listener.LocalEndpoint);
            OnEndpointStarted(started);
            return new Listener(server, listener, () => OnEndpointStopped(started));
        }
    }

    private sealed class Listener(TestSmtpServer server, TcpListener listener, Action stopped) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = true;
            context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
            context.Properties[EndpointListener.RemoteEndPointKey] = socket.RemoteEndPoint!;
            var pipe = new PlainPipe(new NetworkStream(socket, ownsSocket: true), closed => server._open.TryRemove(closed, out _));
            server._open[pipe] = true;
            return pipe;
        }

        public void Dispose()
        {
            listener.Stop();
            stopped();
        }
    }

    private sealed class PlainPipe(NetworkStream stream, Action<PlainPipe> closed) : ISecurableDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream);

        public PipeWriter Output { get; } = PipeWriter.Create(stream);

        public bool IsSecure => false;

        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The test server speaks plain text only.");

        public void Dispose()
        {
            stream.Dispose();
            closed(this);
        }
    }

    private sealed class RecipientFilter(TestSmtpServer server) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            var answer = server.RecipientAnswer?.Invoke(to.AsAddress());
            if (answer is { DropsConnection: true })
            {
                context.Pipe.Dispose();
                throw new IOException("Connection dropped by the test before DATA.");
            }

            return answer is null || answer.Code is >= 200 and < 300
                ? Task.FromResult(true)
                : throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)answer.Code, answer.Text));
        }
    }

    private sealed class Store(TestSmtpServer server) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var raw = buffer.ToArray();
            var mail = new ReceivedMail(
                context.SessionId,
                transaction.From.AsAddress(),
                [.. transaction.To.Select(to => to.AsAddress())],
                MimeMessage.Load(new MemoryStream(raw, writable: false), cancellationToken),
                raw)
            {
                HeloName = context.Properties.TryGetValue(HeloNameKey, out var helo) ? helo as string : null,
            };

            var answer = server.Receive(mail);
            if (answer.DropsConnection)
            {
                // Close the socket before the client hears an answer: to the client the connection broke during DATA.
                context.Pipe.Dispose();
                throw new IOException("Connection dropped by the test.");
            }

            return Task.FromResult(new SmtpResponse((SmtpReplyCode)answer.Code, answer.Text));
        }
    }
}
