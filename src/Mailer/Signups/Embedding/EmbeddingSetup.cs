using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Mailer.Signups.Embedding;

public static class EmbeddingSetup
{
    /// <summary>The CORS policy of <c>POST /subscribe</c>.</summary>
    public const string CorsPolicy = "signup-origins";

    /// <summary>The allowed origins (<c>Subscribers:AllowedOrigins</c>), the CORS policy made of them, and <c>embed</c>.</summary>
    public static IServiceCollection AddSignupEmbedding(this IServiceCollection services)
    {
        services.AddSingleton<SignupOrigins>();
        services.AddCors();
        // No credentials: a signup needs no cookie, so a page elsewhere gets no way to act as a visitor's browser here.
        services.AddOptions<CorsOptions>().Configure<SignupOrigins>((cors, origins) => cors.AddPolicy(CorsPolicy, policy => policy
            .WithOrigins([.. origins.Allowed])
            .WithMethods(HttpMethods.Post)
            .WithHeaders("Content-Type")
            .WithExposedHeaders("Retry-After")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        services.AddSingleton<Cli.IOperatorCommand, EmbedCommand>();
        return services;
    }
}
