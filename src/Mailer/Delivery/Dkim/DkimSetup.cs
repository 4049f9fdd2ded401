using Microsoft.Extensions.Options;

namespace Mailer.Delivery.Dkim;

public static class DkimSetup
{
    /// <summary>The <c>Dkim</c> options (checked at start, keys included), the signer the transports use, and <c>dkim-keygen</c>.</summary>
    public static IServiceCollection AddDkimSigning(this IServiceCollection services)
    {
        services.AddOptions<DkimOptions>()
            .BindConfiguration(DkimOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DkimOptions>, DkimOptionsValidator>();
        services.AddSingleton<DkimSigning>();
        services.AddSingleton<Cli.IOperatorCommand, DkimKeygenCommand>();
        return services;
    }
}
