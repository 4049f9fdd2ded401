namespace Mailer.Rendering;

public static class RenderingSetup
{
    public static WebApplicationBuilder AddRendering(this WebApplicationBuilder builder) => builder;
}
