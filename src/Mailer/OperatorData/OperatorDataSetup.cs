using Mailer.Cli;

namespace Mailer.OperatorData;

public static class OperatorDataSetup
{
    /// <summary>The operators' data commands: <c>import</c>, <c>export</c> and <c>erase</c>.</summary>
    public static WebApplicationBuilder AddOperatorData(this WebApplicationBuilder builder)
    {
        builder.Services.AddOperatorDataCommands();
        return builder;
    }

    /// <summary>Registers <c>import</c>, <c>export</c> and <c>erase</c>; needs <see cref="Storage.Database"/>, a <see cref="TimeProvider"/>, the campaign's and the <c>Smtp</c> options.</summary>
    public static IServiceCollection AddOperatorDataCommands(this IServiceCollection services)
    {
        services.AddSingleton<IOperatorCommand, ImportCommand>();
        services.AddSingleton<IOperatorCommand, ExportCommand>();
        services.AddSingleton<IOperatorCommand, EraseCommand>();
        services.AddSingleton<PickupFolderEraser>();
        return services;
    }
}
