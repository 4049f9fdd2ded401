using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Mailer.Pages;
using Mailer.Signups.Embedding;
using Mailer.Subscribers;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Mailer.Signups;

public static class SignupSetup
{
    /// <summary>
    /// Signup and double opt-in: the signup page and endpoint, the confirmation mail's job and sweep, the rate limit,
    /// the embedded form's origins and the OpenAPI document.
    /// </summary>
    public static WebApplicationBuilder AddSignup(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<IConfirmationMailer, TransportConfirmationMailer>();
        services.AddTransient<ConfirmMailJob>();
        services.AddSingleton<ConfirmationQueue>();
        services.AddTransient<ConfirmationSweep>();
        services.AddSingleton<SignupApi>();
        services.AddSignupEmbedding();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(SignupApi.RateLimitPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<SubscribersOptions>>().Value;
                return RateLimitPartition.GetFixedWindowLimiter(ClientKey(context.Connection.RemoteIpAddress), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.SignupsPerClient,
                    Window = options.SignupWindow,
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = OnSignupRateLimitedAsync;
        });

        services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapSignup(this WebApplication app)
    {
        // CORS before the rate limit: a browser's preflight is answered without counting as a signup.
        app.UseCors();
        app.UseRateLimiter();
        app.MapOpenApi();

        app.MapGet("/", (HttpContext context, SignupApi api) => api.ShowForm(context)).ExcludeFromDescription();
        app.MapGet("/{campaign:regex(^[a-z0-9][a-z0-9-]{{0,62}}$)}", (HttpContext context, string campaign, SignupApi api) => api.ShowForm(context, campaign))
            .ExcludeFromDescription();
        app.MapPost("/subscribe", (HttpContext context, SignupApi api) => api.SubscribeAsync(context))
            .RequireRateLimiting(SignupApi.RateLimitPolicy)
            .RequireCors(EmbeddingSetup.CorsPolicy)
            .WithName("Subscribe")
            .WithSummary("Sign up for the guide and the reminders (double opt-in).")
            .WithDescription("Creates a pending subscriber and sends the confirmation mail. The answer is the same whether the "
                + "address is new, pending or already confirmed. The signup page's form posts here too and gets HTML back.")
            .Accepts<SignupRequest>("application/json", "application/x-www-form-urlencoded")
            .Produces<SignupAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return app;
    }

    /// <summary>
    /// Whom the rate limit counts: the client's IPv4 address, or the /64 network of an IPv6 address (one
    /// household or phone gets a whole /64). Behind a reverse proxy this is the proxy unless forwarded headers are configured.
    /// </summary>
    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes).ToString() + "/64";
    }

    private static async ValueTask OnSignupRateLimitedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        SignupLog.SignupRateLimited(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<SignupApi>());
        context.RequestServices.GetRequiredService<Observability.MailerMetrics>().Signup("rate_limited");
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

        IResult answer = context.Request.HasFormContentType
            ? context.RequestServices.GetRequiredService<PageRenderer>().Render(
                context, "too-many", RequestLocale.Choose(context.Request), statusCode: StatusCodes.Status429TooManyRequests)
            : TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many signups from this address.",
                detail: "Wait a minute and try again.");
        await answer.ExecuteAsync(context);
    }
}
