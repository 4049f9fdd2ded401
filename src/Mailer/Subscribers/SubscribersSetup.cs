using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Mailer.Storage;
using Mailer.Subscribers.Embedding;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Mailer.Subscribers;

public static class SubscribersSetup
{
    /// <summary>
    /// Signup, double opt-in and the links in mails: options, store, tokens, pages, the confirmation job, the rate
    /// limit, the hourly deletion of addresses that never confirmed; and the operators' <c>import</c>, <c>export</c> and <c>erase</c>.
    /// </summary>
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SubscribersOptions>()
            .BindConfiguration(SubscribersOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton<SigningKey>();
        services.AddSingleton<LinkTokens>();
        services.AddSingleton(provider =>
        {
            var links = ActivatorUtilities.CreateInstance<LinkBuilder>(provider);
            links.ConfirmWithin = provider.GetRequiredService<IOptions<SubscribersOptions>>().Value.ConfirmWithin;
            return links;
        });
        services.AddSingleton<ISubscriberStore, SubscriberStore>();
        services.TryAddSingleton<IConfirmationMailer, TransportConfirmationMailer>();
        services.AddTransient<ConfirmMailJob>();
        services.AddSingleton<ConfirmationQueue>();
        services.AddTransient<ConfirmationSweep>();
        services.AddTransient<RetentionJob>();
        services.AddHostedService<RetentionScheduler>();
        services.AddSingleton<PageRenderer>();
        services.AddSingleton<SignupApi>();
        services.AddSingleton<LinkApi>();
        services.AddOperatorDataCommands();
        services.AddSignupEmbedding();

        // The confirm and unsubscribe buttons' antiforgery tokens must survive a restart (a page opened before it still
        // posts) and hold on every instance (a page opened on one is sent to another): the keys live in the store.
        services.AddAntiforgery(antiforgery => antiforgery.Cookie.Name = "mailer-antiforgery");
        services.AddDataProtection().SetApplicationName("mailer");
        services.AddOptions<KeyManagementOptions>()
            .Configure<Database, TimeProvider>((keys, database, time) => keys.XmlRepository = new KeyRingRepository(database, time));

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

    public static WebApplication MapSubscribers(this WebApplication app)
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

        app.MapGet("/confirm/{token}", (HttpContext context, string token, LinkApi api) => api.ShowConfirmAsync(context, token))
            .ExcludeFromDescription();
        app.MapPost("/confirm/{token}", (HttpContext context, string token, LinkApi api) => api.ConfirmAsync(context, token))
            .ExcludeFromDescription();
        app.MapGet("/unsubscribe/{token}", (HttpContext context, string token, LinkApi api) => api.ShowUnsubscribeAsync(context, token))
            .ExcludeFromDescription();
        app.MapPost("/unsubscribe/{token}", (HttpContext context, string token, LinkApi api) => api.UnsubscribeAsync(context, token))
            .WithName("Unsubscribe")
            .WithSummary("Unsubscribe: RFC 8058 one-click (body List-Unsubscribe=One-Click) or the unsubscribe page's button.")
            .Accepts<OneClickUnsubscribe>("application/x-www-form-urlencoded", "multipart/form-data")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .Produces(StatusCodes.Status400BadRequest, contentType: "text/html")
            .Produces(StatusCodes.Status404NotFound, contentType: "text/html")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        app.MapGet("/go/{token}/{platform}", (HttpContext context, string token, string platform, LinkApi api) => api.GoAsync(context, token, platform))
            .ExcludeFromDescription();
        app.MapGet("/done/{token}/{platform}", (HttpContext context, string token, string platform, LinkApi api) => api.ShowDoneAsync(context, token, platform))
            .ExcludeFromDescription();
        app.MapPost("/done/{token}/{platform}", (HttpContext context, string token, string platform, LinkApi api) => api.MarkDoneAsync(context, token, platform))
            .ExcludeFromDescription();
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
        SubscribersLog.SignupRateLimited(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<SignupApi>());
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

/// <summary>The body of an RFC 8058 one-click unsubscribe.</summary>
/// <param name="ListUnsubscribe">Always <c>One-Click</c>.</param>
public sealed record OneClickUnsubscribe(string ListUnsubscribe);
