namespace Mailer.Storage;

public static class StorageSetup
{
    /// <summary>The durable store: options, connections, the schema migrated before anything else starts; the operators' <c>backup</c>.</summary>
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<Database>();
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddSingleton<Cli.IOperatorCommand, BackupCommand>();
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [Hosting.HealthEndpoints.Ready]);
        return builder;
    }

    /// <summary>Requests that meet the store gone for a while are answered 503 with Retry-After (<see cref="StoreUnavailableAnswer"/>).</summary>
    public static WebApplication MapStorage(this WebApplication app)
    {
        app.UseMiddleware<StoreUnavailableAnswer>();
        return app;
    }
}

/// <summary>Migrates the schema when the service starts, before the jobs and endpoints use it.</summary>
internal sealed class StorageInitializer(SchemaMigrator migrator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
