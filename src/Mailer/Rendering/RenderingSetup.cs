namespace Mailer.Rendering;

public static class RenderingSetup
{
    /// <summary>The mail templates, loaded and checked when the service starts.</summary>
    public static WebApplicationBuilder AddRendering(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RenderingOptions>()
            .BindConfiguration(RenderingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<TemplateRenderer>();
        builder.Services.AddHostedService<RenderingInitializer>();
        return builder;
    }
}

/// <summary>
/// Builds the renderer while the service starts: a broken template stops the start with its file and line
/// instead of failing the first send. (The command line builds it when a command first asks for it.)
/// </summary>
internal sealed class RenderingInitializer(TemplateRenderer renderer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(renderer);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
