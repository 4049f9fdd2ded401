namespace Mailer.Tests.Campaigns;

/// <summary>What an operator does for a new campaign: the templates folder, with the guide's campaign folder copied under a new name.</summary>
internal static class CampaignTemplates
{
    /// <summary>A templates folder of the test's own holding the repository's templates and a copy of <paramref name="from"/> named <paramref name="to"/>.</summary>
    public static string WithCopy(string from, string to)
    {
        var templates = TestPaths.NewTemporaryDirectory("templates");
        Copy(TestPaths.Templates, templates);
        Copy(Path.Combine(TestPaths.Templates, from), Path.Combine(templates, to));
        return templates;
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
