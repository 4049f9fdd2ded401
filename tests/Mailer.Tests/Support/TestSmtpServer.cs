using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mailer.Delivery;
using MimeKit;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Mailer.Tests.Support;

/// <summary>
/// A real SMTP server inside the test process (the SmtpServer package), on 127.0.0.1 and a free port. It keeps
/// every message it accepts, parsed, counts connections, and answers as a test tells it to: any reply code,
/// or hanging up in the middle of a message. Answers are given at the end of DATA, where real servers refuse
/// content and, often, recipients too.
/// <code>
/// await using var server = await TestSmtpServer.StartAsync();
/// server.Answer = mail => mail.To.Contains("gone@example.org") ? SmtpAnswer.Reply(550, "5.1.1 User unknown") : SmtpAnswer.Accept;
/// server.AnswerNext(SmtpAnswer.DropConnection);          // the next message only
/// var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), TimeProvider.System, NullLogger&lt;SmtpTransport&gt;.Instance);
/// ...
/// await server.WaitForMessagesAsync(3, TimeSpan.FromSeconds(10));
/// Assert.Equal(1, server.Connections);
/// </code>
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedMail> _messages = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly ConcurrentQueue<SmtpAnswer> _next = new();
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    private Task? _running;
    private int _connections;

    private TestSmtpServer()
    {
    }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>The messages accepted so far, in the order they arrived (a snapshot).</summary>
    public IReadOnlyList<ReceivedMail> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>How many connections (SMTP sessions) clients opened so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Decides the answer to each message, after it was received whole; null (default) accepts all.</summary>
    public Func<ReceivedMail, SmtpAnswer>? Answer { get; set; }

    /// <summary>
    /// Decides the answer to each <c>RCPT TO</c> (the address); null, or a null answer, accepts the recipient.
    /// The package appends <c>", N retry(ies) remaining."</c> to a refusal at this stage.
    /// </summary>
    public Func<string, SmtpAnswer?>? RecipientAnswer { get; set; }

    public static async Task<TestSmtpServer> StartAsync()
    {
        var server = new TestSmtpServer();
        await server.RunAsync();
        return server;
    }

    /// <summary>Answers the next message with <paramref name="answer"/>, before <see cref="Answer"/> is asked; queues up.</summary>
    public void AnswerNext(SmtpAnswer answer) => _next.Enqueue(answer);

    /// <summary>Options for <see cref="SmtpTransport"/> that point at this server: plain text, short timeout.</summary>
    public SmtpOptions SmtpOptions() => new()
    {
        Host = Host,
        Port = Port,
        Security = SmtpSecurity.None,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Waits until at least <paramref name="count"/> messages were accepted; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        Task done;
        lock (_gate)
        {
            if (_messages.Count >= count)
            {
                return;
            }

            var waiter = (count, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.Add(waiter);
            done = waiter.Item2.Task;
        }

        try
        {
            await done.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Expected {count} messages within {timeout}, got {Messages.Count}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new NoDelayListenerFactory();
        listeners.EndpointStarted += (_, e) => started.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);

        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        services.Add(new RecipientFilter(this));

        var options = new SmtpServerOptionsBuilder()
            .ServerName("test-smtp.localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        _server = new SmtpServer.SmtpServer(options, services);
        _server.SessionCreated += (_, _) => Interlocked.Increment(ref _connections);
        _running = _server.StartAsync(_stop.Token);

        if (await Task.WhenAny(started.Task, _running, Task.Delay(TimeSpan.FromSeconds(10))) != started.Task)
        {
            await _stop.CancelAsync();
            throw new InvalidOperationException("The test SMTP server did not start.", _running.Exception);
        }

        Port = await started.Task;
    }

    private SmtpAnswer Receive(ReceivedMail mail)
    {
        var answer = _next.TryDequeue(out var next) ? next : Answer?.Invoke(mail) ?? SmtpAnswer.Accept;
        if (answer.Code is >= 200 and < 300)
        {
            lock (_gate)
            {
                _messages.Add(mail);
                foreach (var waiter in _waiters.Where(w => _messages.Count >= w.Count).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult();
                }
            }
        }

        return answer;
    }

    /// <summary>
    /// Listens like the package's own listener, but with Nagle's algorithm off, as production servers answer: the
    /// server writes a short reply to each pipelined command, and with Nagle on every second reply waits for the
    /// client's delayed ACK (about 40 ms a message), which would hide the client's own speed.
    /// </summary>
    private sealed class NoDelayListenerFactory : EndpointListenerFactory
    {
        public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new TcpListener(endpointDefinition.Endpoint);
            listener.Start();
            var started = new EndpointEventArgs(endpointDefinition, listener.LocalEndpoint);
            OnEndpointStarted(started);
            return new Listener(listener, () => OnEndpointStopped(started));
        }
    }

    private sealed class Listener(TcpListener listener, Action stopped) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = true;
            context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
            context.Properties[EndpointListener.RemoteEndPointKey] = socket.RemoteEndPoint!;
            return new PlainPipe(new NetworkStream(socket, ownsSocket: true));
        }

        public void Dispose()
        {
            listener.Stop();
            stopped();
        }
    }

    private sealed class PlainPipe(NetworkStream stream) : ISecurableDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream);

        public PipeWriter Output { get; } = PipeWriter.Create(stream);

        public bool IsSecure => false;

        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The test server speaks plain text only.");

        public void Dispose() => stream.Dispose();
    }

    private sealed class RecipientFilter(TestSmtpServer server) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            var answer = server.RecipientAnswer?.Invoke(to.AsAddress());
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
                raw);

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

/// <summary>One message as the test server received it.</summary>
/// <param name="SessionId">The connection it came over: messages with the same id shared a connection.</param>
/// <param name="From">The envelope sender (MAIL FROM).</param>
/// <param name="To">The envelope recipients (RCPT TO).</param>
/// <param name="Message">The message, parsed with MimeKit.</param>
/// <param name="Raw">The bytes as received after DATA.</param>
public sealed record ReceivedMail(Guid SessionId, string From, IReadOnlyList<string> To, MimeMessage Message, byte[] Raw);

/// <summary>What the test server answers to a message.</summary>
public sealed record SmtpAnswer
{
    private SmtpAnswer(int code, string text, bool dropsConnection) => (Code, Text, DropsConnection) = (code, text, dropsConnection);

    /// <summary><c>250 2.0.0 Ok: queued</c>.</summary>
    public static SmtpAnswer Accept { get; } = new(250, "2.0.0 Ok: queued", false);

    /// <summary>Closes the connection after the message's data, without an answer.</summary>
    public static SmtpAnswer DropConnection { get; } = new(0, "", true);

    public int Code { get; }

    public string Text { get; }

    public bool DropsConnection { get; }

    /// <summary>Any reply, e.g. <c>Reply(451, "4.3.0 Try again later")</c> or <c>Reply(550, "5.1.1 User unknown")</c>.</summary>
    public static SmtpAnswer Reply(int code, string text) => new(code, text, false);
}
