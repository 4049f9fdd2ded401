using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Dapper;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Hangfire.States;
using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Links;
using Mailer.Rendering;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Support;

/// <summary>
/// One Mailer application for one test, reached through real HTTP (in memory, or Kestrel with
/// <see cref="WebApplicationFactory{T}.UseKestrel(int)"/>): its own data folder, signing key and outbox, the
/// repository's <c>appsettings.json</c> and <c>templates/</c>, environment Development.
/// <para>
/// By default the confirmation mails go to <see cref="ConfirmationMails"/> instead of a transport, and confirmation
/// jobs are captured (<see cref="CapturedJobs"/>) and run when the test says (<see cref="RunConfirmationJobsAsync"/>),
/// so tests decide when a mail goes out. Set <see cref="CaptureJobs"/> false to let Hangfire run them, and
/// <see cref="RecordConfirmationMails"/> false for the real mailer (templates, MIME, <c>Smtp:*</c> transport).
/// </para>
/// </summary>
public sealed partial class MailerAppFactory : WebApplicationFactory<Program>
{
    public const string TestSigningKey = "test-signing-key-0123456789-abcdefghijklmnop";

    static MailerAppFactory()
    {
        // Program computes its content root itself (ContentRoot.Resolve) before the factory can change it.
        Environment.SetEnvironmentVariable(ContentRoot.EnvironmentVariable, TestPaths.RepositoryRoot);
    }

    /// <summary>The test's data folder (database, keys).</summary>
    public string DataDirectory { get; } = TestPaths.NewTemporaryDirectory("data");

    /// <summary>The test's pickup folder, should anything reach the transport.</summary>
    public string OutboxDirectory { get; } = TestPaths.NewTemporaryDirectory("outbox");

    /// <summary>The clock of the application when set (before the first request).</summary>
    public FakeTimeProvider? Time { get; init; }

    /// <summary>Configuration on top of appsettings.json, e.g. <c>["Subscribers:SignupsPerClient"] = "3"</c>.</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Replace the real confirmation mailer by <see cref="ConfirmationMails"/>. Default true.</summary>
    public bool RecordConfirmationMails { get; init; } = true;

    /// <summary>Capture enqueued jobs instead of handing them to Hangfire. Default true.</summary>
    public bool CaptureJobs { get; init; } = true;

    public ConfirmationMailbox ConfirmationMails { get; } = new();

    public CapturedJobClient CapturedJobs { get; } = new();

    /// <summary>More service replacements for one test.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; init; }

    public ISubscriberStore Store => Services.GetRequiredService<ISubscriberStore>();

    public LinkBuilder Links => Services.GetRequiredService<LinkBuilder>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mailer:DataDirectory"] = DataDirectory,
            ["Mailer:SigningKey"] = TestSigningKey,
            ["Smtp:PickupDirectory"] = OutboxDirectory,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        }).AddInMemoryCollection(Settings));
        builder.ConfigureTestServices(services =>
        {
            if (Time is not null)
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(Time);
            }

            if (RecordConfirmationMails)
            {
                services.RemoveAll<IConfirmationMailer>();
                services.AddSingleton<IConfirmationMailer>(provider => new RecordingConfirmationMailer(provider.GetRequiredService<LinkBuilder>(), ConfirmationMails));
            }

            if (CaptureJobs)
            {
                services.RemoveAll<IBackgroundJobClient>();
                services.AddSingleton<IBackgroundJobClient>(CapturedJobs);
            }

            ConfigureTestServices?.Invoke(services);
        });
    }

    /// <summary>A client whose requests come from <paramref name="clientIp"/>, with its own cookies.</summary>
    public HttpClient CreateClientFrom(string clientIp)
    {
        var address = IPAddress.Parse(clientIp);
        var cookies = new CookieContainerHandler { InnerHandler = Server.CreateHandler(context => context.Connection.RemoteIpAddress = address) };
        return new HttpClient(cookies) { BaseAddress = new Uri("http://localhost") };
    }

    /// <summary>Runs the captured confirmation jobs not run yet, in order, as Hangfire would (a fresh scope each).</summary>
    public async Task RunConfirmationJobsAsync()
    {
        while (CapturedJobs.TryTakeConfirmation(out var subscriberId))
        {
            await using var scope = Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ConfirmMailJob>().SendAsync(subscriberId, CancellationToken.None);
        }
    }

    /// <summary>How many rows the subscriber tables hold: compare before and after to see that nothing was stored.</summary>
    public async Task<RowCounts> CountRowsAsync()
    {
        await using var connection = await Services.GetRequiredService<Database>().OpenAsync();
        return new RowCounts(
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscribers"),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM consents"),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM link_events"));
    }

    /// <summary>What Hangfire holds for this application, for a failure message.</summary>
    public string DescribeJobs()
    {
        var monitoring = Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var failed = monitoring.FailedJobs(0, 10).Select(j => $"{j.Value.Job?.Type.Name}: {j.Value.ExceptionMessage}");
        var scheduled = monitoring.ScheduledJobs(0, 10).Select(j => $"{j.Value.Job?.Type.Name} at {j.Value.EnqueueAt:O}");
        var processing = monitoring.ProcessingJobs(0, 10).Select(j => $"{j.Value.Job?.Type.Name} on {j.Value.ServerId}");
        var queues = monitoring.Queues().Select(q => $"{q.Name}={q.Length}");
        return $"Queues: {string.Join(", ", queues)}; processing: {string.Join("; ", processing)}; scheduled: {string.Join("; ", scheduled)}; "
            + $"failed: {string.Join("; ", failed)}; succeeded: {monitoring.SucceededListCount()}; servers: {monitoring.Servers().Count}";
    }

    /// <summary>Reads the antiforgery field of a page's form.</summary>
    public static KeyValuePair<string, string> AntiforgeryField(string html)
    {
        var match = AntiforgeryInput().Match(html);
        Assert.True(match.Success, "The page has no antiforgery field.");
        return new(match.Groups["name"].Value, WebUtility.HtmlDecode(match.Groups["value"].Value));
    }

    /// <summary>The path and query of an absolute link in a mail, to request it from the test server.</summary>
    public static string PathOf(string url) => new Uri(url).PathAndQuery;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        TryDelete(DataDirectory);
        TryDelete(OutboxDirectory);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken)" value="(?<value>[^"]+)">""")]
    private static partial Regex AntiforgeryInput();
}

public sealed record RowCounts(long Subscribers, long Consents, long LinkEvents);

/// <summary>A confirmation mail as the recording mailer saw it, with the links the real mail carries.</summary>
public sealed record SentConfirmation(Recipient Recipient, string ConfirmUrl, string UnsubscribeUrl);

/// <summary>The confirmation mails the application sent, in order; <see cref="NextOutcome"/> decides what the "server" answers.</summary>
public sealed class ConfirmationMailbox
{
    private readonly Channel<SentConfirmation> _arrivals = Channel.CreateUnbounded<SentConfirmation>();
    private readonly ConcurrentQueue<SentConfirmation> _all = new();

    public SendOutcome NextOutcome { get; set; } = SendOutcome.Accepted;

    /// <summary>Awaited before each mail is "sent", to hold sends in flight (a test's gate).</summary>
    public Func<Task>? BeforeSend { get; set; }

    public IReadOnlyList<SentConfirmation> All => [.. _all];

    public void Add(SentConfirmation mail)
    {
        _all.Enqueue(mail);
        _arrivals.Writer.TryWrite(mail);
    }

    /// <summary>Waits for the next mail (for jobs run by Hangfire); fails after <paramref name="timeout"/>, saying what the jobs did.</summary>
    public async Task<SentConfirmation> NextAsync(TimeSpan timeout, Func<string>? describeJobs = null)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            return await _arrivals.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No confirmation mail within {timeout}. {describeJobs?.Invoke()}");
        }
    }
}

internal sealed class RecordingConfirmationMailer(LinkBuilder links, ConfirmationMailbox mailbox) : IConfirmationMailer, IConfirmationSender
{
    public Task<IConfirmationSender> OpenAsync(CancellationToken cancellationToken) => Task.FromResult<IConfirmationSender>(this);

    public async Task<SendResult> SendConfirmationAsync(Recipient recipient, CancellationToken cancellationToken)
    {
        if (mailbox.BeforeSend is { } gate)
        {
            await gate();
        }

        var outcome = mailbox.NextOutcome;
        if (outcome == SendOutcome.Accepted)
        {
            var mail = links.For(recipient, withConfirm: true);
            mailbox.Add(new SentConfirmation(recipient, mail.ConfirmUrl!, mail.UnsubscribeUrl));
        }

        return new SendResult(outcome, outcome == SendOutcome.Accepted ? "250 OK" : "451 try later");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Takes the jobs the application enqueues instead of Hangfire, so a test runs them when it chooses.</summary>
public sealed class CapturedJobClient : IBackgroundJobClient
{
    private readonly ConcurrentQueue<long> _confirmations = new();
    private long _count;

    /// <summary>All confirmations ever requested (a job may carry several).</summary>
    public long ConfirmationCount => Interlocked.Read(ref _count);

    public bool TryTakeConfirmation(out long subscriberId) => _confirmations.TryDequeue(out subscriberId);

    public string Create(Job job, IState state)
    {
        if (job.Type == typeof(ConfirmMailJob))
        {
            // A job carries the confirmations of the signups that arrived together; each is taken on its own here.
            foreach (var subscriberId in job.Args[0] as long[] ?? [(long)job.Args[0]])
            {
                _confirmations.Enqueue(subscriberId);
                Interlocked.Increment(ref _count);
            }
        }

        return Guid.NewGuid().ToString("N");
    }

    public bool ChangeState(string jobId, IState state, string expectedState) => true;
}
