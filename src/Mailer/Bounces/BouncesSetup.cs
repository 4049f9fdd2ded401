using Microsoft.Extensions.Options;

namespace Mailer.Bounces;

public static class BouncesSetup
{
    /// <summary>The <c>Bounces</c> options (checked at start) and the tagged envelope senders the send jobs use.</summary>
    public static WebApplicationBuilder AddBounces(this WebApplicationBuilder builder)
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
        return builder;
    }

    public static WebApplication MapBounces(this WebApplication app) => app;
}
