namespace Mailer.Subscribers;

public static class SubscribersSetup
{
    public static WebApplicationBuilder AddSubscribers(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SigningKey>();
        builder.Services.AddSingleton<LinkTokens>();
        builder.Services.AddSingleton<LinkBuilder>();
        return builder;
    }

    public static WebApplication MapSubscribers(this WebApplication app) => app;
}
