using System.Globalization;

namespace Mailer.Tests.Reliability;

/// <summary>The generated test addresses (<c>prefix&lt;N&gt;@domain</c>) and their numbers.</summary>
internal static class Generated
{
    /// <summary>The N of <c>prefixN@domain</c>.</summary>
    public static int Number(string address) =>
        int.Parse(new string(address.TakeWhile(c => c != '@').Where(char.IsAsciiDigit).ToArray()), CultureInfo.InvariantCulture);
}
