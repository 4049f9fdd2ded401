using System.Collections.Concurrent;
using System.Net;
using Mailer.Delivery;
using SmtpServer;

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
public sealed partial class TestSmtpServer : IAsyncDisposable
{
    private const string HeloNameKey = "Mailer.Tests.HeloName";
    private readonly Lock _gate = new();
    private readonly List<ReceivedMail> _messages = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly ConcurrentQueue<SmtpAnswer> _next = new();
    private readonly ConcurrentDictionary<PlainPipe, bool> _open = new();
    private readonly CancellationTokenSource _stop = new();
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
    /// The package appends <c>", N retry(ies) remaining."</c> to a refusal at this stage;
    /// <see cref="SmtpAnswer.DropConnection"/> hangs up before <c>DATA</c>.
    /// </summary>
    public Func<string, SmtpAnswer?>? RecipientAnswer { get; set; }

    /// <summary>
    /// Starts a server on a free port, or on <paramref name="port"/>: a server disposed and started again on the same
    /// port is a relay that was down for a while.
    /// </summary>
    public static async Task<TestSmtpServer> StartAsync(int port = 0)
    {
        var server = new TestSmtpServer();
        await server.RunAsync(port);
        return server;
    }

    /// <summary>Answers the next message with <paramref name="answer"/>, before <see cref="Answer"/> is asked; queues up.</summary>
    public void AnswerNext(SmtpAnswer answer) => _next.Enqueue(answer);

    /// <summary>Hangs up on every open connection, as a restarting relay or an idle timeout would.</summary>
    public void DropConnections()
    {
        foreach (var pipe in _open.Keys)
        {
            pipe.Dispose();
        }
    }

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
        DropConnections();
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

    private async Task RunAsync(int port)
    {
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new NoDelayListenerFactory(this);
        listeners.EndpointStarted += (_, e) => started.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);

        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        services.Add(new RecipientFilter(this));

        var options = new SmtpServerOptionsBuilder()
            .ServerName("test-smtp.localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var server = new SmtpServer.SmtpServer(options, services);
        server.SessionCreated += (_, e) =>
        {
            Interlocked.Increment(ref _connections);
            e.Context.CommandExecuting += (_, command) =>
            {
                if (command.Command is SmtpServer.Protocol.EhloCommand ehlo)
                {
                    command.Context.Properties[HeloNameKey] = ehlo.DomainOrAddress;
                }
            };
        };
        _running = server.StartAsync(_stop.Token);

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
}
