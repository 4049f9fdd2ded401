using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mailer.Hosting;

public static class HostingSetup
{
    /// <summary>Options of the <c>Mailer</c> section, the clock, problem details and health checks.</summary>
    public static WebApplicationBuilder AddMailerHosting(this WebApplicationBuilder builder, bool quiet)
    {
        if (quiet)
        {
            // The command line prints its own results; only warnings from the machinery.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        }

        builder.Services.AddOptions<MailerOptions>()
            .BindConfiguration(MailerOptions.Section)
            .ValidateDataAnnotations()
            // Without the key in Production a signup would be answered and its confirmation job would fail: stop at start.
            .Validate<IHostEnvironment>((mailer, environment) => !environment.IsProduction() || !string.IsNullOrEmpty(mailer.SigningKey),
                MailerOptions.SigningKeyRequired)
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        return builder;
    }

    public static WebApplication MapMailerHosting(this WebApplication app)
    {
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        if (app.Configuration.GetValue<bool>("Benchmarks:BareEndpoint"))
        {
            // For bench/signup.sh only: this server answering 202 and doing nothing else, the yardstick for POST /subscribe.
            app.MapPost("/bench/bare", () => TypedResults.Accepted((string?)null)).ExcludeFromDescription();
        }

        return app;
    }
}

/// <summary>Writes <c>/healthz</c> as JSON: the overall status and one entry per check (store, transport).</summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }
}
