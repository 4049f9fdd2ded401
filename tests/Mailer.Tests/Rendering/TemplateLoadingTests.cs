using Mailer.Rendering;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Rendering;

/// <summary>A broken template stops the renderer when it is built, naming the file and the line.</summary>
public class TemplateLoadingTests
{
    [Fact]
    public void UnknownVariable_FailsWhenTheRendererIsBuilt_NamingFileAndLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "reminder-week.txt.sbn");
        File.WriteAllText(file, "Erinnerung\n\nNoch {{ tage_uebrig }} Tage.\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains($"{file}(3,", error.Message);
        Assert.Contains("tage_uebrig", error.Message);
    }

    [Fact]
    public void MisspeltMemberOfAPlatform_IsAnError_NotAnEmptyString()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "en", "partials", "platform-buttons.txt.sbn");
        File.WriteAllText(file, "{{ for platform in platforms }}\n{{ platform.lable }}\n{{ end }}\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains($"{file}(2,", error.Message);
        Assert.Contains("lable", error.Message);
    }

    [Theory]
    [InlineData("en", "reminder-final.html.sbn", "(array.size platforms) == 1 && platforms[0].name == \"instagram\"", "instagram")]
    [InlineData("de", "reminder-week.txt.sbn", "(array.size platforms) == 1 && platforms[0].name == \"facebook\"", "facebook")]
    [InlineData("de", "announcement.html.sbn", "(array.size platforms) == 0", "no platform")]
    [InlineData("en", "confirm.txt.sbn", "(array.size platforms) == 0", "no platform")]
    public void AnErrorInTheBranchOfOnePlatformCombination_FailsWhenTheRendererIsBuilt_NamingFileAndLine(
        string locale, string name, string condition, string combination)
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, locale, name);
        var lines = File.ReadAllLines(file).Length;
        File.AppendAllText(file, $"\n{{{{ if {condition} }}}}\n{{{{ nur_fuer_diese_auswahl }}}}\n{{{{ end }}}}\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains($"{file}({lines + 3},", error.Message);
        Assert.Contains("nur_fuer_diese_auswahl", error.Message);
        Assert.Contains(combination, error.Message);
    }

    [Fact]
    public void AnErrorInABranchForNoPlatform_InAReminder_DoesNotStopTheStart_NoReminderGoesOutWithout()
    {
        var templates = TestRenderers.CopyOfTemplates();
        File.AppendAllText(Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "reminder-week.txt.sbn"), "\n{{ if (array.size platforms) == 0 }}{{ nie_erreicht }}{{ end }}\n");

        var renderer = TestRenderers.Create(templates);

        Assert.NotNull(renderer);
    }

    [Fact]
    public void SyntaxError_FailsWhenTheRendererIsBuilt_NamingFileAndLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "partials", "footer.html.sbn");
        File.WriteAllText(file, "<p>{{ sender_name }}</p>\n<p>{{ if mailing == \"confirm\" }}Bestätigen</p>\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains(file + "(", error.Message);
        Assert.Contains("if", error.Message);
    }

    [Fact]
    public void SyntaxErrorsInSeveralFiles_AreAllReported()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var first = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "confirm.subject.sbn");
        var second = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "en", "announcement.html.sbn");
        File.WriteAllText(first, "Bitte bis {{ deadline_date ) }} bestätigen\n");
        File.AppendAllText(second, "\n{{ end }}\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains(first + "(1,", error.Message);
        Assert.Contains(second + "(", error.Message);
    }

    [Fact]
    public void MissingMailFile_IsNamed()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "en", "reminder-final.subject.sbn");
        File.Delete(file);

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void IncludeOfAMissingPartial_NamesTheIncludingFileAndLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "de", "reminder-final.html.sbn");
        File.WriteAllText(file, "{{ capture preheader }}Heute{{ end }}\n<p>Heute!</p>\n{{ include \"knopf\" }}\n");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(templates));

        Assert.Contains($"{file}(3,", error.Message);
        Assert.Contains(Path.Combine("de", "partials", "knopf.html.sbn"), error.Message);
    }

    [Fact]
    public void MissingTemplateFolder_IsNamed()
    {
        var missing = Path.Combine(TestPaths.NewTemporaryDirectory("templates"), "nowhere");

        var error = Assert.Throws<TemplateException>(() => TestRenderers.Create(missing));

        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void TemplateDirectory_IsResolvedAgainstTheContentRoot()
    {
        var renderer = TestRenderers.Create("templates");

        var mail = renderer.Render(Mailings.Confirm, new Recipient(1, "anna@example.org", "de", ["facebook"]), TestRenderers.Links("facebook"), TestRenderers.Berlin(5, 19, 10));

        Assert.Contains("https://mailer.test/confirm/confirm-token", mail.Text);
    }

    [Fact]
    public async Task AddRendering_WithABrokenTemplate_StopsTheStart_NamingFileAndLine()
    {
        var templates = TestRenderers.CopyOfTemplates();
        var file = Path.Combine(templates, Mailer.Tests.Storage.TestStore.Campaign, "en", "confirm.txt.sbn");
        File.WriteAllText(file, "Please confirm:\n{{ confirm_link }}\n");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = TestPaths.RepositoryRoot,
            EnvironmentName = Environments.Development,
        });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration[$"{RenderingOptions.Section}:TemplateDirectory"] = templates;
        builder.Services.AddSingleton(Options.Create(TestRenderers.Campaign()));
        builder.Services.AddSingleton(Options.Create(TestRenderers.Mailer()));
        builder.AddRendering();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<TemplateException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains($"{file}(2,", error.Message);
    }
}
