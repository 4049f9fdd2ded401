using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mailer.Delivery;

/// <summary>
/// Gmail's <c>Feedback-ID: a:b:c:SenderId</c>: up to four colon-separated fields that Postmaster Tools counts
/// complaints by, each on its own, read from the right; the last, the sender id, 5-15 characters and the same on all
/// mail of the sender. Mailer writes the mailing, the campaign, the stream (<c>optin</c> for the opt-in request,
/// <c>bulk</c> for the campaign's mailings) and the sender id. Every field is letters, digits and hyphens, so none
/// can add a field, a line or a header.
/// </summary>
internal static partial class FeedbackId
{
    /// <summary>The header value, checked field by field.</summary>
    /// <exception cref="ArgumentException">A field is empty or holds anything but letters, digits and hyphens.</exception>
    public static string For(string mailing, string campaign, string stream, string senderId)
    {
        Check(Field(), mailing, "the mailing");
        Check(Field(), campaign, "Campaign:Name");
        Check(Field(), stream, "the stream");
        Check(SenderIdPattern(), senderId, "Mailer:FeedbackSenderId (5-15 letters, digits or hyphens)");
        return $"{mailing}:{campaign}:{stream}:{senderId}";
    }

    /// <summary>
    /// The sender id when <c>Mailer:FeedbackSenderId</c> is empty, from From's domain in its ASCII form: the label
    /// before the top-level domain (<c>example</c> for <c>example.org</c>), the whole domain without dots when that
    /// is shorter than 5, cut to 15; an id still shorter than 5 gets <c>-mailer</c> appended. Anything but letters,
    /// digits and hyphens (as in an address literal) becomes a hyphen.
    /// </summary>
    public static string DefaultSenderId(string domain)
    {
        var labels = Ascii(domain.Trim().TrimEnd('.')).ToLowerInvariant().Split('.')
            .Select(label => NotIdChars().Replace(label, "-").Trim('-'))
            .Where(label => label.Length > 0)
            .ToList();
        var name = labels.Count switch { 0 => "", 1 => labels[0], _ => labels[^2] };
        if (name.Length < 5)
        {
            name = string.Concat(labels);
        }

        name = (name.Length > 15 ? name[..15] : name).TrimEnd('-');
        return name.Length >= 5 ? name : (name + "-mailer").TrimStart('-');
    }

    private static string Ascii(string domain)
    {
        try
        {
            return new IdnMapping().GetAscii(domain);
        }
        catch (ArgumentException)
        {
            // An address literal ([192.0.2.1]) or a name IDNA refuses: its characters are replaced above.
            return domain;
        }
    }

    private static void Check(Regex pattern, string value, string what)
    {
        if (!pattern.IsMatch(value))
        {
            throw new ArgumentException($"Feedback-ID: {what} must be letters, digits and hyphens, not '{Escaped(value)}'.");
        }
    }

    private static string Escaped(string value)
    {
        var text = new StringBuilder();
        foreach (var c in value)
        {
            text.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^[A-Za-z0-9-]{1,64}\z")]
    private static partial Regex Field();

    [GeneratedRegex(@"^[A-Za-z0-9-]{5,15}\z")]
    private static partial Regex SenderIdPattern();

    [GeneratedRegex("[^a-z0-9-]")]
    private static partial Regex NotIdChars();
}
