using Mailer.Campaigns;
using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Rendering;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Builder;

namespace Mailer.Benchmarks;

/// <summary>The program's services as the running service has them: the repository's appsettings.json and templates.</summary>
internal static class MailerServices
{
    public static WebApplication Build(string dataDirectory, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [
                $"--Mailer:DataDirectory={dataDirectory}",
                "--Mailer:SigningKey=bench-signing-key-0123456789abcdef0123456789",
                .. settings.Select(s => $"--{s.Key}={s.Value}"),
            ],
            ContentRootPath = RepositoryRoot(),
            EnvironmentName = "Production",
        });
        builder.AddMailerHosting(quiet: true);
        builder.AddStorage();
        builder.AddRendering();
        builder.AddDelivery();
        builder.AddSubscribers();
        builder.AddCampaigns(runJobs: false);
        return builder.Build();
    }

    /// <summary>The folder with appsettings.json and templates/, found upwards from the working directory or the program.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (ContentRoot.IsHome(directory.FullName) && File.Exists(Path.Combine(directory.FullName, "Mailer.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("Run the benchmarks inside the repository (no Mailer.sln with appsettings.json and templates/ above).");
    }
}
