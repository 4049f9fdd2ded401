using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Mailer.Hosting;

public static class HostingSetup
{
    /// <summary>
    /// Options of the <c>Mailer</c> and <c>Hosting</c> sections, the reverse proxies believed, the clock, problem
    /// details and health checks.
    /// </summary>
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
        builder.Services.AddOptions<HostingOptions>()
            .BindConfiguration(HostingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<HostingOptions>>((forwarding, hosting) => ReverseProxy.Configure(forwarding, hosting.Value));
        builder.Services.AddSingleton<ReverseProxy>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        return builder;
    }

    public static WebApplication MapMailerHosting(this WebApplication app)
    {
        // First, so that the rate limit, the consent record and the dashboard's rule all see the visitor, not the proxy.
        app.UseForwardedHeaders();
        app.UseStatusCodePages();
        app.MapHealthEndpoints();
        if (app.Configuration.GetValue<bool>("Benchmarks:BareEndpoint"))
        {
            // For bench/signup.sh only: this server answering 202 and doing nothing else, the yardstick for POST /subscribe.
            app.MapPost("/bench/bare", () => TypedResults.Accepted((string?)null)).ExcludeFromDescription();
        }

        return app;
    }
}
