using Mailer.Campaigns;
using Mailer.Dashboard;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Mailer.Observability;

public static class ObservabilitySetup
{
    public const string MetricsPath = "/metrics";

    /// <summary>The meter <c>Mailer</c>, exported for a Prometheus scrape and, with <c>Otlp:Endpoint</c>, over OTLP.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OtlpOptions>()
            .BindConfiguration(OtlpOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<SendRate>();
        services.AddSingleton<LedgerWaiting>();
        services.AddSingleton<MailerMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mailer", serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(metrics => metrics
                // Each scrape sees the counts as they are: the endpoint is for operators only, no storm to shield it from.
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        // Only this host's meter (the one its IMeterFactory made), not every meter of that name in the process: two hosts
        // in one process (the tests) would otherwise count each other's mails.
        builder.Metrics.EnableMetrics(MailerMetrics.MeterName, instrumentName: null, listenerName: "OpenTelemetry", scopes: MeterScope.Local);
        // The OTLP reader needs the validated options, so it is added once the services exist.
        services.ConfigureOpenTelemetryMeterProvider((provider, metrics) => AddOtlp(provider, metrics));
        return builder;
    }

    /// <summary><c>/metrics</c>, the Prometheus scrape, for the callers the dashboard admits.</summary>
    public static WebApplication MapObservability(this WebApplication app)
    {
        // The instruments exist once the meter does: count from the first request on, not from the first scrape.
        app.Services.GetRequiredService<MailerMetrics>();
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: pipeline => pipeline.Use(async (context, next) =>
        {
            if (!context.RequestServices.GetRequiredService<DashboardAccess>().Authorize(context))
            {
                // As the dashboard answers: a prompt for the password where one would help, a refusal otherwise.
                context.Response.StatusCode = context.Response.Headers.WWWAuthenticate.Count > 0
                    ? StatusCodes.Status401Unauthorized
                    : StatusCodes.Status403Forbidden;
                return;
            }

            await next(context);
        }), optionsName: null);
        return app;
    }

    private static void AddOtlp(IServiceProvider provider, MeterProviderBuilder metrics)
    {
        var options = provider.GetRequiredService<IOptions<OtlpOptions>>().Value;
        if (options.MetricsUri() is not { } endpoint)
        {
            return;
        }

        var exporter = new OtlpMetricExporter(new OtlpExporterOptions { Endpoint = endpoint, Protocol = OtlpExportProtocol.HttpProtobuf });
        metrics.AddReader(new PeriodicExportingMetricReader(exporter, (int)options.ExportInterval.TotalMilliseconds));
        ObservabilityLog.OtlpExporting(provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OtlpOptions)), endpoint.GetLeftPart(UriPartial.Authority), options.ExportInterval);
    }
}
