using System.Text.RegularExpressions;
using Mailer.Cli;
using Mailer.Tests.Support;
using static Mailer.Tests.Signups.TestSteps;

namespace Mailer.Tests.Signups.Embedding;

/// <summary><c>embed</c>: the form to paste into a blog article, as the operator gets it from the command line.</summary>
public sealed partial class EmbedCommandTests
{
    private static async Task<(int Exit, string Output, string Error)> EmbedAsync(MailerAppFactory app, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await OperatorCommands.RunAsync(app.Services, OperatorCommands.Parse(["embed", .. args])!, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static MailerAppFactory App() => new()
    {
        Settings = { ["Mailer:PublicBaseUrl"] = "https://kampagne.example.org/", ["Subscribers:AllowedOrigins:0"] = "https://blog.example.org" },
    };

    [Fact]
    public async Task Embed_PrintsAPlainFormToTheAbsoluteSignupUrl_WithEveryPlatformTheHiddenHoneypotAndTheConsent_InGermanByDefault()
    {
        await using var app = App();

        var (exit, html, error) = await EmbedAsync(app);

        Assert.Equal((0, ""), (exit, error));
        Assert.StartsWith("<!--", html);
        Assert.Contains("""<form method="post" action="https://kampagne.example.org/subscribe" accept-charset="utf-8" lang="de" """, html);
        Assert.Contains("""<input type="hidden" name="locale" value="de">""", html);
        Assert.Contains("""name="platforms" value="facebook" checked>""", html);
        Assert.Contains("""name="platforms" value="instagram" checked>""", html);
        Assert.Contains(""">Instagram</label>""", html);
        Assert.Matches("""<div aria-hidden="true" style="position:absolute;left:-10000px[^"]*">\s*<label for="mailer-website">[^<]+</label>\s*<input type="text" id="mailer-website" name="website" tabindex="-1" autocomplete="off">""", html);
        Assert.Contains("willigst du ein", html);
        Assert.Contains("Anleitung anfordern", html);
        Assert.DoesNotContain("RequestVerificationToken", html);
        Assert.DoesNotContain("returnUrl", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Ids().Matches(html).GroupBy(m => m.Value), g => g.Count() > 1);
    }

    [Fact]
    public async Task Embed_InEnglish_WithAReturnUrlOnAnAllowedOrigin_CarriesIt()
    {
        await using var app = App();

        var (exit, html, _) = await EmbedAsync(app, "--locale", "en", "--return-url", "https://blog.example.org/meta-ai?ref=form");

        Assert.Equal(0, exit);
        Assert.Contains("""lang="en" """, html);
        Assert.Contains("""<input type="hidden" name="locale" value="en">""", html);
        Assert.Contains("""<input type="hidden" name="returnUrl" value="https://blog.example.org/meta-ai?ref=form">""", html);
        Assert.Contains("Send me the guide", html);
        Assert.Contains("you agree", html);
    }

    [Theory]
    [InlineData("--locale", "fr", "--locale must be de or en")]
    [InlineData("--return-url", "https://evil.example/", "Subscribers:AllowedOrigins")]
    [InlineData("--return-url", "javascript:alert(1)", "Subscribers:AllowedOrigins")]
    [InlineData("--platform", "x", "Unknown option --platform")]
    public async Task Embed_WithABadArgument_SaysWhatIsWrong_AndExits2(string option, string value, string message)
    {
        await using var app = App();

        var (exit, html, error) = await EmbedAsync(app, option, value);

        Assert.Equal((2, ""), (exit, html));
        Assert.Contains(message, error);
        Assert.Contains("usage: mailer embed", error);
    }

    [GeneratedRegex("\\bid=\"[^\"]+\"")]
    private static partial Regex Ids();
}
