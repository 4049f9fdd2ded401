using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Signups.Embedding;

/// <summary>
/// The other sites the signup is embedded in (<c>Subscribers:AllowedOrigins</c>): the only origins the JSON endpoint
/// answers CORS for, and the only ones the "check your inbox" page links back to.
/// </summary>
public sealed class SignupOrigins(IOptions<SubscribersOptions> options)
{
    /// <summary>The longest back link taken from a form field or a Referer; longer ones are dropped.</summary>
    public const int MaxReturnUrlLength = 2048;

    /// <summary>The form field an embedded form may carry with the article's address.</summary>
    public const string ReturnUrlField = "returnUrl";

    private HashSet<string>? _allowed;

    /// <summary>The configured origins as a browser writes them in <c>Origin</c> (lower-case, no default port).</summary>
    public IReadOnlySet<string> Allowed => _allowed ??= options.Value.AllowedOrigins
        .Select(o => TryNormalize(o, out var origin) ? origin : null)
        .OfType<string>()
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// <paramref name="value"/> as an origin (<c>https://blog.example.org</c>, <c>http://127.0.0.1:8080</c>), or false
    /// when it is none: another scheme than http(s), user info, a path (even a final <c>/</c>), a query or a fragment.
    /// </summary>
    public static bool TryNormalize(string? value, out string origin)
    {
        origin = "";
        if (string.IsNullOrWhiteSpace(value) || value.EndsWith('/')
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.PathAndQuery != "/" || uri.Fragment.Length > 0)
        {
            return false;
        }

        origin = uri.GetLeftPart(UriPartial.Authority);
        return true;
    }

    /// <summary>
    /// Where the "check your inbox" page may link back to: the embedded form's <see cref="ReturnUrlField"/>, else the
    /// Referer, each only when it is an http(s) address on an allowed origin. Anything else is dropped, never followed:
    /// the page would otherwise be a link to wherever a stranger's form said (an open redirect with Mailer's name on it).
    /// </summary>
    public string? ReturnLink(string? returnUrl, string? referer)
    {
        foreach (var candidate in new[] { returnUrl, referer })
        {
            if (string.IsNullOrEmpty(candidate) || candidate.Length > MaxReturnUrlLength
                || !Uri.TryCreate(candidate, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0
                || !Allowed.Contains(uri.GetLeftPart(UriPartial.Authority)))
            {
                continue;
            }

            return uri.AbsoluteUri;
        }

        return null;
    }
}
