using Mailer.Signups;
using Mailer.Subscribers;

namespace Mailer.Tests.Signups;

public class EmailAddressTests
{
    [Theory]
    [InlineData("anna@example.de", "anna@example.de")]
    [InlineData(" \tAnna.Muster+kampagne@Example.DE\r\n", "anna.muster+kampagne@example.de")]
    [InlineData("o'neil@example.ie", "o'neil@example.ie")]
    [InlineData("anna@sub.domain-with-dash.example", "anna@sub.domain-with-dash.example")]
    [InlineData("anna@müller.de", "anna@müller.de")]
    [InlineData("anna@MÜLLER.DE", "anna@müller.de")]
    [InlineData("anna@xn--mller-kva.de", "anna@müller.de")]
    [InlineData("anna@XN--MLLER-KVA.DE", "anna@müller.de")]
    [InlineData("anna@bücher.例え.jp", "anna@bücher.例え.jp")]
    public void Normalize_AcceptsAndNormalizes(string typed, string normalized)
    {
        Assert.Equal(EmailProblem.None, EmailAddress.Normalize(typed, out var result));
        Assert.Equal(normalized, result);
    }

    [Theory]
    [InlineData(null, EmailProblem.Missing)]
    [InlineData("   ", EmailProblem.Missing)]
    [InlineData("anna", EmailProblem.Invalid)]
    [InlineData("@example.de", EmailProblem.Invalid)]
    [InlineData("anna@", EmailProblem.Invalid)]
    [InlineData("anna@@example.de", EmailProblem.Invalid)]
    [InlineData("an@na@example.de", EmailProblem.Invalid)]
    [InlineData(".anna@example.de", EmailProblem.Invalid)]
    [InlineData("anna.@example.de", EmailProblem.Invalid)]
    [InlineData("an..na@example.de", EmailProblem.Invalid)]
    [InlineData("an na@example.de", EmailProblem.Invalid)]
    [InlineData("anna@exa mple.de", EmailProblem.Invalid)]
    [InlineData("anna@example.de\r\nBcc: x@example.de", EmailProblem.Invalid)]
    [InlineData("anna\0@example.de", EmailProblem.Invalid)]
    [InlineData("Anna <anna@example.de>", EmailProblem.Invalid)]
    [InlineData("\"anna\"@example.de", EmailProblem.Invalid)]
    [InlineData("jürgen@example.de", EmailProblem.Invalid)]
    [InlineData("anna@localhost", EmailProblem.Invalid)]
    [InlineData("anna@127.0.0.1", EmailProblem.Invalid)]
    [InlineData("anna@[127.0.0.1]", EmailProblem.Invalid)]
    [InlineData("anna@-example.de", EmailProblem.Invalid)]
    [InlineData("anna@example..de", EmailProblem.Invalid)]
    [InlineData("anna@example.de.", EmailProblem.Invalid)]
    [InlineData("anna@exa_mple.de", EmailProblem.Invalid)]
    [InlineData("<script>@example.de", EmailProblem.Invalid)]
    [InlineData("anna@<script>.de", EmailProblem.Invalid)]
    public void Normalize_RejectsWhatIsNoMailbox(string? typed, EmailProblem problem)
    {
        Assert.Equal(problem, EmailAddress.Normalize(typed, out _));
    }

    [Fact]
    public void Normalize_RejectsOverlongAddresses()
    {
        Assert.Equal(EmailProblem.TooLong, EmailAddress.Normalize(new string('a', 65) + "@example.de", out _));
        Assert.Equal(EmailProblem.None, EmailAddress.Normalize(new string('a', 64) + "@example.de", out _));
        var longDomain = string.Join('.', Enumerable.Repeat(new string('d', 60), 4)) + ".de";
        Assert.NotEqual(EmailProblem.None, EmailAddress.Normalize(new string('a', 64) + "@" + longDomain, out _));
        Assert.Equal(EmailProblem.TooLong, EmailAddress.Normalize(new string('a', 5000), out _));
    }

    [Fact]
    public void ToAscii_GivesTheDomainInPunycode()
    {
        Assert.Equal("anna@xn--mller-kva.de", EmailAddress.ToAscii("anna@müller.de"));
        Assert.Equal("anna@example.de", EmailAddress.ToAscii("anna@example.de"));
    }

    [Fact]
    public void Normalize_CountsTheLengthOfTheAsciiForm()
    {
        // 60 × "ü" is 60 characters but a 66-character punycode label: over the 63 a DNS label may have.
        Assert.Equal(EmailProblem.Invalid, EmailAddress.Normalize("anna@" + new string('ü', 60) + ".de", out _));
    }
}
