using Mailer.Bounces;
using Mailer.Tests.Support;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Bounces;

public sealed class BouncesOptionsTests
{
    private static ValidateOptionsResult Validate(BouncesOptions options, string from = "Kampagne <kampagne@example.org>") =>
        new BouncesOptionsValidator(Options.Create(TestOptions.Mailer(m => m.From = from))).Validate(null, options);

    [Theory]
    [InlineData("bounces@example.org", "Kampagne <kampagne@example.org>")]
    [InlineData("bounces@bounce.example.org", "Kampagne <kampagne@news.example.org>")]
    [InlineData("bounces@mail.example.co.uk", "Kampagne <kampagne@example.co.uk>")]
    public void ReturnPath_InTheOrganisationalDomainOfFrom_IsAccepted(string returnPath, string from) =>
        Assert.True(Validate(new BouncesOptions { ReturnPath = returnPath }, from).Succeeded);

    [Theory]
    [InlineData("bounces@example.net", "Kampagne <kampagne@example.org>")]
    [InlineData("bounces@other.co.uk", "Kampagne <kampagne@example.co.uk>")]
    public void ReturnPath_OutsideFromsOrganisationalDomain_IsRefusedNamingBothKeys(string returnPath, string from)
    {
        var result = Validate(new BouncesOptions { ReturnPath = returnPath }, from);

        Assert.True(result.Failed);
        Assert.Contains("Bounces:ReturnPath", result.FailureMessage);
        Assert.Contains("Mailer:From", result.FailureMessage);
    }

    [Theory]
    [InlineData("Bounces <bounces@example.org>")]
    [InlineData("bounces+x@example.org")]
    [InlineData("bounces")]
    public void ReturnPath_NotOnePlainAddressWithoutDelimiter_IsRefused(string returnPath)
    {
        var result = Validate(new BouncesOptions { ReturnPath = returnPath });

        Assert.True(result.Failed);
        Assert.Contains("Bounces:ReturnPath", result.FailureMessage);
    }

    [Fact]
    public void Mailbox_WithoutLoginOrReturnPath_IsRefusedNamingTheKeys()
    {
        var result = Validate(new BouncesOptions { Imap = new BounceMailboxOptions { Host = "imap.example.org" } });

        Assert.True(result.Failed);
        Assert.Contains("Bounces:Imap:Username", result.FailureMessage);
        Assert.Contains("Bounces:ReturnPath", result.FailureMessage);
    }

    [Theory]
    [InlineData("00:00:07")]
    [InlineData("00:07:00")]
    [InlineData("00:00:00")]
    public void PollInterval_TheSchedulerCannotKeep_IsRefused(string interval)
    {
        var result = Validate(new BouncesOptions { PollInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Bounces:PollInterval", result.FailureMessage);
    }

    [Fact]
    public void Nothing_IsValid() => Assert.True(Validate(new BouncesOptions()).Succeeded);
}
