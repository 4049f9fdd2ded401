namespace Mailer.Pages;

public static class PagesSetup
{
    /// <summary>The pages a browser gets (signup, confirm, unsubscribe, done, errors), rendered from <c>templates/pages</c> in the visitor's language.</summary>
    public static WebApplicationBuilder AddPages(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PageRenderer>();
        return builder;
    }
}
