using Mailer.Storage;

namespace Mailer.Subscribers;

public static class SubscribersSetup
{
    /// <summary>The list itself: its options, its store, and the hourly deletion of what is kept no longer (addresses that never confirmed, old link events' clients).</summary>
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SubscribersOptions>()
            .BindConfiguration(SubscribersOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<ISubscriberStore, SubscriberStore>();
        services.AddTransient<RetentionJob>();
        services.AddHostedService<RetentionScheduler>();
        return builder;
    }
}
