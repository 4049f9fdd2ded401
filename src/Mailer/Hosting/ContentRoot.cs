namespace Mailer.Hosting;

/// <summary>
/// Finds the folder that holds <c>appsettings.json</c> and <c>templates/</c>: the working directory when
/// the README's <c>dotnet run --project src/Mailer</c> starts from the repository root, else the folder of
/// the program itself (a build or a publish carries copies of both). Relative paths in the configuration
/// (data, outbox, templates) are resolved against it.
/// </summary>
public static class ContentRoot
{
    public const string EnvironmentVariable = "MAILER_HOME";

    public static string Resolve()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        var current = Directory.GetCurrentDirectory();
        return IsHome(current) ? current : AppContext.BaseDirectory;
    }

    public static bool IsHome(string directory) =>
        File.Exists(Path.Combine(directory, "appsettings.json")) && Directory.Exists(Path.Combine(directory, "templates"));

    /// <summary>A configured path, absolute as given or relative to the content root.</summary>
    public static string Combine(string contentRoot, string path) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(contentRoot, path));
}
