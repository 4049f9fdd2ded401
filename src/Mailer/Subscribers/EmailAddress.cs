using System.Globalization;

namespace Mailer.Subscribers;

public enum EmailProblem
{
    None,
    Missing,
    TooLong,
    Invalid,
}

/// <summary>
/// Checks and normalizes the address a person typed. Accepted: a dot-atom local part in ASCII (no quoted
/// strings, no comments, no umlauts: few mail servers take those) and a domain name with at least one dot.
/// Internationalized domains are accepted and stored in one canonical Unicode form: <c>MÜLLER.de</c> and
/// <c>xn--mller-kva.de</c> both become <c>müller.de</c> (IDNA mapping, lower-cased), so the unique index sees one
/// spelling per mailbox, mails greet people with the address they typed, and MimeKit round-trips it (it writes the
/// punycode form on the wire when a server does not speak SMTPUTF8). The local part keeps its case (RFC 5321
/// leaves it to the server).
/// </summary>
public static class EmailAddress
{
    /// <summary>RFC 5321: 64 octets for the local part, 254 for the whole path without brackets.</summary>
    public const int MaxLocalPartLength = 64;

    public const int MaxLength = 254;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

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

        normalized = local + "@" + domain;
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
