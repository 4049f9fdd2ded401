using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.Options;

namespace Mailer.Campaigns;

public static class CampaignsSetup
{
    /// <summary>The schedule, the jobs and Hangfire to run them; <paramref name="runJobs"/> is false for the command line.</summary>
    public static WebApplicationBuilder AddCampaigns(this WebApplicationBuilder builder, bool runJobs)
    {
        var services = builder.Services;
        services.AddOptions<CampaignOptions>()
            .BindConfiguration(CampaignOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<HangfireOptions>()
            .BindConfiguration(HangfireOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The storage is a service of this host, not Hangfire's static JobStorage.Current: two hosts in one
        // process (tests) each keep their own jobs.
        services.AddSingleton<JobStorage>(_ => new InMemoryStorage(new InMemoryStorageOptions
        {
            IdType = InMemoryStorageIdType.Long,
        }));
        services.AddHangfire((provider, configuration) => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(provider.GetRequiredService<JobStorage>()));

        if (runJobs)
        {
            services.AddHangfireServer((provider, server) =>
            {
                var options = provider.GetRequiredService<IOptions<HangfireOptions>>().Value;
                server.WorkerCount = options.WorkerCount ?? Environment.ProcessorCount + 4;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            });
        }

        return builder;
    }

    public static WebApplication MapCampaigns(this WebApplication app) => app;
}
