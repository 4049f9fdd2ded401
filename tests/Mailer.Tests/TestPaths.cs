namespace Mailer.Tests;

/// <summary>Where the repository is, so tests use the real <c>templates/</c> and <c>appsettings.json</c>.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Templates => Path.Combine(RepositoryRoot, "templates");

    /// <summary>A fresh folder under the system temp folder, for one test's data, outbox or artifacts.</summary>
    public static string NewTemporaryDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "mailer-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mailer.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Mailer.sln not found above " + AppContext.BaseDirectory);
    }
}
