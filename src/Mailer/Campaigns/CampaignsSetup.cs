namespace Mailer.Campaigns;

public static class CampaignsSetup
{
    public static WebApplicationBuilder AddCampaigns(this WebApplicationBuilder builder, bool runJobs)
    {
        builder.Services.AddOptions<CampaignOptions>()
            .BindConfiguration(CampaignOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        _ = runJobs;
        return builder;
    }

    public static WebApplication MapCampaigns(this WebApplication app) => app;
}
