using System.Globalization;

namespace Mailer.Signups;

public enum EmailProblem
{
    None,
    Missing,
    TooLong,
    Invalid,
}

/// <summary>
/// The one normalization of a mail address, used wherever an address enters or is looked up: signup, import, erase,
/// export, timeline. Two spellings of one mailbox give one string, so the unique index on <c>subscribers.email</c>
/// holds one row per person and every lookup is an exact match on that string.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Trimmed:</b> white space around the address is dropped; white space or control characters inside it
/// make it invalid.</item>
/// <item><b>Local part case-folded:</b> <c>Anna@</c> and <c>anna@</c> are one person. RFC 5321 lets a server treat the
/// local part as case-sensitive, but no provider people sign up with does (Gmail, Outlook, GMX, web.de, T-Online,
/// iCloud, Exchange and Postfix/Dovecot setups all deliver <c>Anna@</c> to <c>anna@</c>), while two rows for one
/// person mean two copies of every mail and an erasure that misses one. So the local part is lower-cased (it is ASCII,
/// see below) and the mail is sent to that form.</item>
/// <item><b>Domain:</b> IDNA (UTS 46) mapping: case-folded, punycode labels decoded, stored in Unicode.
/// <c>MÜLLER.de</c> and <c>xn--mller-kva.de</c> (as other tools export IDN domains) both become <c>müller.de</c>;
/// mails greet people with the Unicode form, and <see cref="ToAscii"/> gives the punycode for the wire.</item>
/// <item><b>Rejected</b> (<see cref="EmailProblem.Invalid"/>): no <c>@</c> or more than one, display names
/// (<c>Anna &lt;anna@…&gt;</c>), quoted local parts, comments, non-ASCII local parts (few mail servers take them),
/// a local part that is no dot-atom (leading, trailing or double dots), IP literals, single-label and all-numeric
/// top-level domains, labels with characters other than letters, digits and inner hyphens;
/// (<see cref="EmailProblem.TooLong"/>): a local part over 64 characters or an address over 254 in its ASCII form
/// (RFC 5321); (<see cref="EmailProblem.Missing"/>): nothing but white space.</item>
/// </list>
/// Rows stored before this rule (local part as typed) are folded by migration 007.
/// </remarks>
public static class EmailAddress
{
    /// <summary>RFC 5321: 64 octets for the local part, 254 for the whole path without brackets.</summary>
    public const int MaxLocalPartLength = 64;

    public const int MaxLength = 254;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>Checks <paramref name="input"/> and gives its normalized form (see the class remarks), or the problem and "".</summary>
    public static EmailProblem Normalize(string? input, out string normalized)
    {
        normalized = "";
        var text = input?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return EmailProblem.Missing;
        }

        if (text.Length > 4 * MaxLength)
        {
            return EmailProblem.TooLong;
        }

        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1 || text.IndexOf('@') != at)
        {
            return EmailProblem.Invalid;
        }

        var local = text[..at];
        if (local.Length > MaxLocalPartLength)
        {
            return EmailProblem.TooLong;
        }

        if (!IsDotAtom(local) || !TryNormalizeDomain(text[(at + 1)..], out var domain))
        {
            return EmailProblem.Invalid;
        }

        normalized = local.ToLowerInvariant() + "@" + domain;
        return ToAscii(normalized).Length > MaxLength ? EmailProblem.TooLong : EmailProblem.None;
    }

    /// <summary>The address with its domain in ASCII (punycode), as DNS and SMTP servers without SMTPUTF8 see it.</summary>
    public static string ToAscii(string normalized)
    {
        var at = normalized.LastIndexOf('@');
        return at < 0 ? normalized : normalized[..(at + 1)] + Idn.GetAscii(normalized[(at + 1)..]);
    }

    private static bool IsDotAtom(string local)
    {
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in local)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '.' && !"!#$%&'*+-/=?^_`{|}~".Contains(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryNormalizeDomain(string domain, out string normalized)
    {
        normalized = "";
        if (domain.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(domain).ToLowerInvariant();
            normalized = Idn.GetUnicode(ascii);
        }
        catch (ArgumentException)
        {
            return false;
        }

        var labels = ascii.Split('.');
        return ascii.Length <= 253
            && labels.Length >= 2
            && labels.All(l => l.Length is >= 1 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            && !labels[^1].All(char.IsAsciiDigit);
    }
}
