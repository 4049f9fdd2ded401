using Mailer.Rendering;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Pages;

/// <summary>
/// The language of a page for a visitor we do not know yet: <c>?lang=de|en</c> if given, else the most preferred
/// supported language of <c>Accept-Language</c> (<c>de-AT</c> counts as <c>de</c>), else <c>Subscribers:DefaultLocale</c>.
/// Pages about a known subscriber use the subscriber's own locale instead.
/// </summary>
public static class RequestLocale
{
    public static string Choose(HttpRequest request)
    {
        var asked = request.Query["lang"].ToString().Trim().ToLowerInvariant();
        if (Mailings.Locales.Contains(asked))
        {
            return asked;
        }

        var preferred = request.GetTypedHeaders().AcceptLanguage
            .Where(l => (l.Quality ?? 1) > 0)
            .OrderByDescending(l => l.Quality ?? 1)
            .Select(l => l.Value.Value?.Split('-')[0].ToLowerInvariant())
            .FirstOrDefault(l => l is not null && Mailings.Locales.Contains(l));
        return preferred ?? request.HttpContext.RequestServices.GetRequiredService<IOptions<SubscribersOptions>>().Value.DefaultLocale;
    }

    /// <summary>A locale named in input (<c>"de"</c>, <c>"EN"</c>), or null when it is not one the campaign writes in.</summary>
    public static string? Parse(string? value)
    {
        var locale = value?.Trim().ToLowerInvariant();
        return locale is not null && Mailings.Locales.Contains(locale) ? locale : null;
    }
}
