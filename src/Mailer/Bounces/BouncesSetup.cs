using Hangfire;
using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

public static class BouncesSetup
{
    /// <summary>
    /// The <c>Bounces</c> options (checked at start), the tagged envelope senders the send jobs use, the store of what
    /// came back, and with <c>Bounces:Imap:Host</c> the recurring job that reads the bounce mailbox (<paramref name="runJobs"/>
    /// is false for the command line).
    /// </summary>
    public static WebApplicationBuilder AddBounces(this WebApplicationBuilder builder, bool runJobs)
    {
        var services = builder.Services;
        services.AddOptions<BouncesOptions>()
            .BindConfiguration(BouncesOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<BouncesOptions>, BouncesOptionsValidator>();
        services.AddSingleton<ReturnPath>();
        services.AddSingleton<BounceStore>();
        services.AddSingleton<BounceIntake>();
        services.AddTransient<BounceMailboxJob>();
        services.AddHttpClient<ISnsCertificateSource, HttpSnsCertificateSource>(http => http.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<SnsVerifier>();
        services.AddSingleton<MailingBreaker>();
        services.AddSingleton<Cli.IOperatorCommand, ResumeCommand>();
        if (runJobs)
        {
            services.AddHostedService<BounceMailboxScheduler>();
        }
        return builder;
    }

    /// <summary>The webhook for relays that report bounces and complaints themselves.</summary>
    public static WebApplication MapBounces(this WebApplication app)
    {
        app.MapBounceWebhooks();
        return app;
    }
}

/// <summary>Registers the mailbox job when a mailbox is configured, and removes it when not (a shared job storage remembers).</summary>
internal sealed class BounceMailboxScheduler(IRecurringJobManager recurring, IOptions<BouncesOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Imap.IsConfigured)
        {
            recurring.AddOrUpdate<BounceMailboxJob>(BounceMailboxJob.RecurringId, job => job.RunAsync(CancellationToken.None),
                options.Value.PollCron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        }
        else
        {
            recurring.RemoveIfExists(BounceMailboxJob.RecurringId);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
