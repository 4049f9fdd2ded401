using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Mailer.Links;

public static class LinksSetup
{
    /// <summary>
    /// The links in mails (confirm, unsubscribe, click-through, done): their signed tokens, their endpoints, and the
    /// antiforgery keys of the pages' buttons, kept in the store.
    /// </summary>
    public static WebApplicationBuilder AddLinks(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<SigningKey>();
        services.AddSingleton<LinkTokens>();
        services.AddSingleton(provider =>
        {
            var links = ActivatorUtilities.CreateInstance<LinkBuilder>(provider);
            links.ConfirmWithin = provider.GetRequiredService<IOptions<SubscribersOptions>>().Value.ConfirmWithin;
            return links;
        });
        services.AddSingleton<LinkApi>();

        // The confirm and unsubscribe buttons' antiforgery tokens must survive a restart (a page opened before it still
        // posts) and hold on every instance (a page opened on one is sent to another): the keys live in the store.
        services.AddAntiforgery(antiforgery => antiforgery.Cookie.Name = "mailer-antiforgery");
        services.AddDataProtection().SetApplicationName("mailer");
        services.AddOptions<KeyManagementOptions>()
            .Configure<Database, TimeProvider>((keys, database, time) => keys.XmlRepository = new KeyRingRepository(database, time));
        return builder;
    }

    public static WebApplication MapLinks(this WebApplication app)
    {
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
}

/// <summary>The body of an RFC 8058 one-click unsubscribe.</summary>
/// <param name="ListUnsubscribe">Always <c>One-Click</c>.</param>
public sealed record OneClickUnsubscribe(string ListUnsubscribe);
