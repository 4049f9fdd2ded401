using Mailer.Bounces;
using Mailer.Links;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Tests.Bounces;

/// <summary>
/// The hand-written reports in <c>Samples/</c> (after RFC 3464, RFC 5965 and the DSNs Postfix writes), with
/// <c>bounces+TAG@example.org</c> replaced by a real tag of the test's return path. They are named <c>.mime</c>: <c>.eml</c> is
/// what the pickup folder writes at run time, which git ignores.
/// </summary>
internal static class BounceSamples
{
    public const string SigningKey = "bounce-tests-signing-key-0123456789abcdef";

    public static ReturnPath ReturnPath { get; } = new(
        Options.Create(new BouncesOptions { ReturnPath = "bounces@example.org" }), new SigningKey(System.Text.Encoding.UTF8.GetBytes(SigningKey)));

    public static string Text(string name) => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "Mailer.Tests", "Bounces", "Samples", name));

    /// <summary>The sample with its tag naming <paramref name="tag"/> (by default ledger row 1).</summary>
    public static MimeMessage Load(string name, BounceTag? tag = null, string? tagAddress = null)
    {
        var address = tagAddress ?? ReturnPath.Address(tag ?? new BounceTag(BounceTagKind.Delivery, 1))!;
        var text = Text(name).Replace("bounces+TAG@example.org", address, StringComparison.Ordinal);
        return MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)));
    }
}
