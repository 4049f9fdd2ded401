using System.Net;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Hosting;

/// <summary>
/// The whole service started in Production: without a usable <c>Mailer:SigningKey</c> it must not start at all (it used
/// to answer a signup 202 and then fail in the confirmation job).
/// </summary>
public class SigningKeyStartTests
{
    [Theory]
    [InlineData("")]
    [InlineData("0123456789012345678901234567890")]   // 31 characters
    public async Task Production_WithoutAUsableSigningKey_DoesNotStart_AndNamesTheKey(string key)
    {
        await using var app = new MailerAppFactory { Settings = { ["Mailer:SigningKey"] = key } };
        await using var production = app.WithWebHostBuilder(builder => builder.UseEnvironment("Production"));

        var error = Assert.ThrowsAny<OptionsValidationException>(() => production.Server);

        Assert.Contains("Mailer:SigningKey", error.Message);
        Assert.False(File.Exists(Path.Combine(app.DataDirectory, "signing.key")), "No key may be made up in Production.");
    }

    [Fact]
    public async Task Production_WithA32CharacterSigningKey_Starts()
    {
        await using var app = new MailerAppFactory { Settings = { ["Mailer:SigningKey"] = "01234567890123456789012345678901" } };
        await using var production = app.WithWebHostBuilder(builder => builder.UseEnvironment("Production"));

        var response = await production.CreateClient().GetAsync("/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
