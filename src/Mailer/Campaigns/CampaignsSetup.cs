using Hangfire;
using Hangfire.AspNetCore;
using Mailer.Cli;
using Mailer.Dashboard;
using Mailer.Delivery;
using Mailer.Signups;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

public static class CampaignsSetup
{
    /// <summary>The schedule, the jobs and Hangfire to run them; <paramref name="runJobs"/> is false for the command line.</summary>
    public static WebApplicationBuilder AddCampaigns(this WebApplicationBuilder builder, bool runJobs)
    {
        var services = builder.Services;
        // The campaigns are read once from the whole configuration (Campaigns:<name>, and the old form in Campaign);
        // IOptions<CampaignOptions> is the default campaign (the only one), checked with all the others at start.
        services.AddSingleton(provider => CampaignCatalog.ReadChecked(provider.GetRequiredService<IConfiguration>()));
        services.AddSingleton<IOptionsFactory<CampaignOptions>, CampaignOptionsFactory>();
        services.AddOptions<CampaignOptions>().ValidateOnStart();
        services.AddSingleton(provider => new StoreCampaign(CampaignCatalog.UpgradeName(provider.GetRequiredService<IConfiguration>())));
        services.AddOptions<HangfireOptions>()
            .BindConfiguration(HangfireOptions.Section)
            .ValidateDataAnnotations()
            .Validate<IOptions<StorageOptions>>(
                (hangfire, storage) => hangfire.Storage != HangfireStorageKind.PostgreSql || storage.Value.Provider == StorageProvider.PostgreSql,
                "Hangfire:Storage=PostgreSql keeps the jobs in the store's database: it needs Storage:Provider=PostgreSql.")
            .ValidateOnStart();

        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<LedgerReadings>();
        services.AddSingleton<CampaignClock>();
        services.AddSingleton<DashboardAccess>();
        services.AddTransient<DispatchJob>();
        services.AddTransient<SendBatchJob>();
        services.AddSingleton<SendProgress>();
        services.AddSingleton<IOperatorCommand, StatusCommand>();
        services.AddSingleton<IOperatorCommand, CampaignsCommand>();
        services.AddSingleton<SubscriberTimeline>();
        services.AddSingleton<IOperatorCommand, TimelineCommand>();

        // The storage is a service of this host, not Hangfire's static JobStorage.Current: two hosts in one
        // process (tests) each keep their own jobs, or share them through PostgreSQL as two machines do.
        services.AddSingleton(provider => HangfireStorage.Create(
            provider.GetRequiredService<IOptions<HangfireOptions>>().Value, provider.GetRequiredService<Database>()));
        // Likewise the activator: AddHangfire would hand every server the static JobActivator.Current, which the
        // last host to start overwrites, so jobs could be built from another (even a disposed) host's services.
        services.AddSingleton<JobActivator>(provider => new AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((provider, configuration) => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogging(provider.GetRequiredService<ILoggerFactory>()))
            .UseStorage(provider.GetRequiredService<JobStorage>()));

        if (runJobs)
        {
            // Three servers, so that no kind of work waits behind another: the dispatcher's runs (one at a time; runs
            // that pile up behind a slow one delay only the next dispatch), the confirmation mails (a signup's first
            // mail never waits for a dispatch), and the sends, whose workers are the SMTP connections.
            services.AddHangfireServer((provider, server) =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:dispatch";
                server.Queues = ["dispatch"];
                server.WorkerCount = 1;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            });
            services.AddHangfireServer((provider, server) =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:confirm";
                server.Queues = [Signups.ConfirmMailJob.Queue];
                server.WorkerCount = provider.GetRequiredService<IOptions<HangfireOptions>>().Value.WorkerCount ?? 2;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            });
            services.AddHangfireServer((provider, server) =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:send";
                server.Queues = ["send"];
                server.WorkerCount = provider.GetRequiredService<IOptions<SmtpOptions>>().Value.Connections;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            });
            services.AddHostedService<DispatchScheduler>();
        }

        return builder;
    }

    public static WebApplication MapCampaigns(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/hangfire"), dashboard => dashboard.Use(DashboardGuard.CheckAsync));
        CampaignPage.Register();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [app.Services.GetRequiredService<DashboardAccess>()],
            DashboardTitle = "Mailer jobs",
            IsReadOnlyFunc = _ => false,
        });
        return app;
    }
}

/// <summary>Registers the recurring dispatcher and runs it once at start, so work pending from before a restart resumes at once.</summary>
internal sealed class DispatchScheduler(IRecurringJobManager recurring, IOptions<CampaignOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<DispatchJob>(DispatchJob.RecurringId, job => job.RunAsync(CancellationToken.None),
            options.Value.PollCron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        recurring.Trigger(DispatchJob.RecurringId);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
