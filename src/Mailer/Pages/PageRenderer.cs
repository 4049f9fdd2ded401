using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using Scriban;
using Scriban.Parsing;
using Scriban.Runtime;

namespace Mailer.Pages;

/// <summary>
/// Renders the service's own pages from <c>templates/pages/{page}.{locale}.html.sbn</c> inside
/// <c>layout.html.sbn</c>. Every value a template prints is HTML-escaped, so an operator editing a
/// page cannot open a hole by forgetting to escape; only the rendered page body and the consent text are
/// inserted as HTML. A template file is read again when it changes.
/// </summary>
public sealed class PageRenderer(
    IHostEnvironment environment,
    IOptions<MailerOptions> mailer,
    IOptions<CampaignOptions> campaign,
    IOptions<SubscribersOptions> options,
    IOptions<RenderingOptions> rendering,
    IAntiforgery antiforgery,
    TimeProvider time)
{
    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private readonly ConcurrentDictionary<string, CachedTemplate> _templates = new(StringComparer.Ordinal);

    /// <summary><c>pages/</c> in the templates folder (<c>Rendering:TemplateDirectory</c>), beside the mail templates.</summary>
    public string Folder => Path.Combine(ContentRoot.Combine(environment.ContentRootPath, rendering.Value.TemplateDirectory), "pages");

    /// <summary>
    /// What a consent records as the text shown: <c>Subscribers:ConsentTextVersion</c>, the locale and the first
    /// eight hex digits of the SHA-256 of the consent template, e.g. <c>2024-05/de/3f2a9c1e</c>.
    /// </summary>
    public string ConsentTextVersion(string locale) =>
        $"{options.Value.ConsentTextVersion}/{locale}/{Load($"consent.{locale}.html.sbn").Fingerprint}";

    /// <summary>What a standing-list consent records as its text: <c>standing-list/{locale}/{fingerprint}</c> of <c>standing-list.{locale}.html.sbn</c>.</summary>
    public string StandingListTextVersion(string locale) =>
        $"standing-list/{locale}/{Load($"standing-list.{locale}.html.sbn").Fingerprint}";

    /// <summary>Renders <paramref name="page"/> as the answer, with a fresh antiforgery token when the page has a form.</summary>
    public IResult Render(HttpContext context, string page, string locale, ScriptObject? model = null,
        int statusCode = StatusCodes.Status200OK, bool withForm = false, CampaignOptions? campaign = null)
    {
        var values = new ScriptObject();
        AddCommonValues(values, locale, campaign);
        if (withForm)
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            values["antiforgery_field"] = tokens.FormFieldName;
            values["antiforgery_token"] = tokens.RequestToken;
        }

        if (model is not null)
        {
            foreach (var (name, value) in model)
            {
                values[name] = value;
            }
        }

        var html = Render(page, locale, values, campaign);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    /// <summary>The page as HTML; <paramref name="values"/> must hold the common values (<see cref="AddCommonValues"/>).</summary>
    public string Render(string page, string locale, ScriptObject values, CampaignOptions? campaign = null)
    {
        var context = Context(locale, values);
        values["content"] = new RawHtml(Load($"{page}.{locale}.html.sbn", campaign).Template.Render(context));
        return Load("layout.html.sbn").Template.Render(context);
    }

    /// <summary>The page alone, without the layout: HTML to put into another site's page (<c>embed</c>).</summary>
    public string RenderFragment(string page, string locale, ScriptObject values) =>
        Load($"{page}.{locale}.html.sbn").Template.Render(Context(locale, values));

    private HtmlTemplateContext Context(string locale, ScriptObject values)
    {
        var context = new HtmlTemplateContext { StrictVariables = true };
        context.PushGlobal(values);
        values["title"] = "";
        values["consent"] = new RawHtml(Load($"consent.{locale}.html.sbn").Template.Render(context));
        values["standing_list"] = new RawHtml(Load($"standing-list.{locale}.html.sbn").Template.Render(context).Trim());
        return context;
    }

    /// <summary>What every page may use: the language, the deadline and how many days are left, the sender.</summary>
    public void AddCommonValues(ScriptObject values, string locale, CampaignOptions? of = null)
    {
        var shown = of ?? campaign.Value;
        var culture = CultureInfo.GetCultureInfo(locale == "de" ? "de-DE" : "en-GB");
        var zone = shown.Zone;
        var deadline = TimeZoneInfo.ConvertTime(shown.DeadlineUtc, zone);
        var today = TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone);
        values["lang"] = locale;
        values["other_lang"] = locale == "de" ? "en" : "de";
        values["deadline_date"] = deadline.ToString(locale == "de" ? "d. MMMM yyyy" : "d MMMM yyyy", culture);
        values["deadline_time"] = deadline.ToString("HH:mm", culture);
        values["time_zone"] = shown.TimeZone;
        values["campaign"] = shown.Name;
        values["days_left"] = Math.Max(0, (deadline.Date - today.Date).Days);
        values["deadline_passed"] = today > deadline;
        values["postal_address"] = mailer.Value.PostalAddress;
        values["confirm_days"] = (int)Math.Ceiling(options.Value.ConfirmWithin.TotalDays);
    }

    /// <summary>A page of <paramref name="campaign"/>: its own in <c>templates/&lt;campaign&gt;/pages/</c> when it has one, else the shared one.</summary>
    private CachedTemplate Load(string file, CampaignOptions? campaign = null)
    {
        var own = campaign is null ? null : Path.Combine(Path.GetDirectoryName(Folder)!, campaign.Name, "pages", file);
        var path = own is not null && File.Exists(own) ? own : Path.Combine(Folder, file);
        var key = path;
        var written = File.GetLastWriteTimeUtc(path);
        if (_templates.TryGetValue(key, out var cached) && cached.Written == written)
        {
            return cached;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The page template {path} is missing.", path);
        }

        var bytes = File.ReadAllBytes(path);
        var template = Template.Parse(Encoding.UTF8.GetString(bytes), path);
        if (template.HasErrors)
        {
            throw new InvalidOperationException($"The page template {path} has errors: {string.Join("; ", template.Messages)}");
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(bytes))[..8];
        return _templates[key] = new CachedTemplate(template, written, fingerprint);
    }

    private sealed record CachedTemplate(Template Template, DateTime Written, string Fingerprint);

    /// <summary>HTML the service made itself (never input); printed as is.</summary>
    private sealed record RawHtml(string Html)
    {
        public override string ToString() => Html;
    }

    /// <summary>Escapes every value a template prints, except <see cref="RawHtml"/>.</summary>
    private sealed class HtmlTemplateContext : TemplateContext
    {
        private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

        public override TemplateContext Write(SourceSpan span, object? textAsObject) =>
            textAsObject is RawHtml raw ? Write(raw.Html) : Write(Encoder.Encode(ObjectToString(textAsObject) ?? ""));
    }
}
