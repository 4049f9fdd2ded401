using Mailer.Delivery.Dkim;
using Mailer.Hosting;
using Microsoft.Extensions.Options;

namespace Mailer.Delivery;

public static class DeliverySetup
{
    /// <summary>
    /// The <c>Smtp</c> options, the message factory, the transport (SMTP, or the pickup folder without a host) and its
    /// health check, and DKIM signing (<c>Dkim</c>), which the transport applies to each message.
    /// </summary>
    public static WebApplicationBuilder AddDelivery(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SmtpOptions>()
            .BindConfiguration(SmtpOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddDkimSigning();
        services.AddSingleton<MessageFactory>();
        services.AddSingleton<MailComposer>();
        services.AddSingleton<CampaignMails>();
        services.AddHostedService<CampaignMailsInitializer>();
        services.AddSingleton<Cli.IOperatorCommand, SendTestCommand>();
        services.AddSingleton<Cli.IOperatorCommand, Rendering.PreviewCommand>();
        services.AddSingleton<IMailTransport>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<SmtpOptions>>().Value;
            if (!options.UsesPickupDirectory)
            {
                return ActivatorUtilities.CreateInstance<SmtpTransport>(provider);
            }

            var contentRoot = provider.GetRequiredService<IHostEnvironment>().ContentRootPath;
            return ActivatorUtilities.CreateInstance<PickupDirectoryTransport>(provider, ContentRoot.Combine(contentRoot, options.PickupDirectory));
        });
        services.AddSingleton<TransportHealthCheck>();
        services.AddHealthChecks().AddCheck<TransportHealthCheck>("transport");
        return builder;
    }
}

/// <summary>Builds every campaign's mail at start: a broken template of any campaign stops the start with its file and line.</summary>
internal sealed class CampaignMailsInitializer(CampaignMails mails) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        mails.BuildAll();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
