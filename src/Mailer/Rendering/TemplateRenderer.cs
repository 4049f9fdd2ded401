using System.Globalization;
using System.Text;
using Mailer.Campaigns;
using Mailer.Hosting;
using Microsoft.Extensions.Options;
using Scriban;
using Scriban.Functions;
using Scriban.Runtime;
using Scriban.Syntax;

namespace Mailer.Rendering;

/// <summary>
/// Renders the campaign's mails from the Scriban templates in <c>Rendering:TemplateDirectory</c>. All templates
/// are read, parsed and tried once, at construction, so a missing file, a syntax error or an unknown variable
/// stops the start with file and line. A render builds the model and evaluates the shared parsed templates in a
/// fresh context: thread-safe, no disk access, no parsing. Each variant of a mail (mailing, language, platforms,
/// day) is evaluated once and then only filled in with each subscriber's address and links (<see cref="MailVariants"/>).
/// </summary>
public sealed class TemplateRenderer
{
    /// <summary>
    /// The functions templates may use, shared and read-only. Scriban copies its full set into every new context
    /// (tens of microseconds); this one is built once. Left out on purpose: <c>date</c> (time comes from the
    /// model, never from the clock) and <c>regex</c>.
    /// </summary>
    private static readonly ScriptObject Builtins = CreateBuiltins();

    [ThreadStatic]
    private static StringBuilder? t_output;

    private readonly TemplateCatalog _catalog;
    private readonly CampaignOptions _campaign;
    private readonly MailModel _model;
    private readonly MailVariants? _variants;

    public TemplateRenderer(
        IOptions<RenderingOptions> options,
        IOptions<CampaignOptions> campaign,
        IOptions<MailerOptions> mailer,
        IHostEnvironment environment,
        ILogger<TemplateRenderer> logger)
    {
        _campaign = campaign.Value;
        _catalog = TemplateCatalog.Load(ContentRoot.Combine(environment.ContentRootPath, options.Value.TemplateDirectory), _campaign.Name, _campaign.Mails);
        foreach (var path in _catalog.Unused)
        {
            RenderingLog.TemplateNotUsed(logger, path);
        }

        _model = new MailModel(campaign.Value, mailer.Value);
        TryEveryMail(campaign.Value.DeadlineUtc);
        RenderingLog.TemplatesLoaded(logger, _catalog.Count, _catalog.Directory);

        var variants = new MailVariants();
        if ((MailVariants.WhyNot(_catalog.All) ?? CompareVariants(variants, campaign.Value.DeadlineUtc)) is { } reason)
        {
            RenderingLog.RenderingInFull(logger, reason);
        }
        else
        {
            _variants = variants;
        }
    }

    /// <summary>Whether mails are filled in from rendered variants (true unless a template does more with a subscriber's values than print them).</summary>
    internal bool FillsInVariants => _variants is not null;

    /// <summary>Renders <paramref name="mailing"/> (one of <see cref="Mailings.All"/>) for one recipient at the time <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentException">Unknown mailing or locale, or links missing for the mail.</exception>
    public RenderedMail Render(string mailing, Recipient recipient, MailLinks links, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(mailing);
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(links);
        var knownMailing = _campaign.Mails.FirstOrDefault(m => m == mailing)
            ?? throw new ArgumentException($"Unknown mailing '{mailing}'.", nameof(mailing));
        var locale = Mailings.Locales.FirstOrDefault(l => string.Equals(l, recipient.Locale, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown locale '{recipient.Locale}'.", nameof(recipient));

        if (_variants is null)
        {
            return RenderInFull(knownMailing, locale, recipient, links, now);
        }

        var (daysLeft, afterDeadline) = _model.Day(now);
        return _variants.Render(knownMailing, locale, string.Create(CultureInfo.InvariantCulture, $"{daysLeft}{afterDeadline}"), recipient, links,
            (marked, markedLinks) => RenderInFull(knownMailing, locale, marked, markedLinks, now));
    }

    /// <summary>Every template of the mail run through Scriban for this recipient: the way without variants (and the benchmarks' reference).</summary>
    internal RenderedMail RenderInFull(string knownMailing, string locale, Recipient recipient, MailLinks links, DateTimeOffset now)
    {
        var (textModel, htmlModel) = _model.Create(knownMailing, locale, recipient, links, now);

        // One context for both parts: the text model and partials first, then the HTML ones.
        var context = NewContext();
        context.TemplateLoader = _catalog.Partials(locale, MailPart.Text);
        context.PushGlobal(textModel);
        var subject = MailModel.OneLine(_catalog.Mail(locale, knownMailing, MailPart.Subject).Render(context));
        textModel["subject"] = subject;
        textModel["content"] = _catalog.Mail(locale, knownMailing, MailPart.Text).Render(context);
        var text = _catalog.Layout(MailPart.Text).Render(context);
        context.PopGlobal();

        context.TemplateLoader = _catalog.Partials(locale, MailPart.Html);
        context.PushGlobal(htmlModel);
        htmlModel["subject"] = MailModel.HtmlEncode(subject);
        htmlModel["content"] = _catalog.Mail(locale, knownMailing, MailPart.Html).Render(context);
        var html = _catalog.Layout(MailPart.Html).Render(context);

        return new RenderedMail(subject, html, text);
    }

    private static TemplateContext NewContext()
    {
        var context = new TemplateContext(Builtins)
        {
            // A misspelt variable or member is an error, not an empty string in a million mails.
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
        };

        // Scriban empties the output after each render; one builder per thread, kept at the size of the largest
        // mail, saves growing a new one several times for every part of every mail.
        var output = t_output ??= new StringBuilder(16 * 1024);
        output.Clear();
        context.PushOutput(new StringBuilderOutput(output));
        return context;
    }

    /// <summary>
    /// Renders every mail in every locale for every combination of the campaign's platforms (none too, for the mails
    /// that can go out without one: a reminder never does), a week before, on the last day and after the deadline, so
    /// that an error in any branch of a template shows at start rather than in the middle of a send.
    /// </summary>
    private void TryEveryMail(DateTimeOffset deadline)
    {
        var platforms = _model.Platforms;
        var links = new MailLinks(
            "https://example.invalid/confirm",
            "https://example.invalid/unsubscribe",
            platforms.ToDictionary(p => p, p => $"https://example.invalid/go/{p}"),
            platforms.ToDictionary(p => p, p => $"https://example.invalid/done/{p}"));
        DateTimeOffset[] times = [deadline.AddDays(-7), deadline.AddHours(-1), deadline.AddDays(1)];
        foreach (var locale in Mailings.Locales)
        {
            foreach (var mailing in _campaign.Mails)
            {
                var reminder = _campaign.IsForNotDone(mailing);
                foreach (var chosen in Combinations(platforms).Where(c => c.Count > 0 || !reminder))
                {
                    var recipient = new Recipient(0, "test@example.invalid", locale, chosen);
                    foreach (var now in times)
                    {
                        TryMail(mailing, recipient, links, now);
                    }
                }
            }
        }
    }

    /// <summary>Renders one mail, a runtime error naming the mail, locale and platforms it was found with.</summary>
    private void TryMail(string mailing, Recipient recipient, MailLinks links, DateTimeOffset now)
    {
        try
        {
            Render(mailing, recipient, links, now);
        }
        catch (ScriptRuntimeException e)
        {
            var with = recipient.Platforms.Count == 0 ? "no platform" : string.Join(", ", recipient.Platforms);
            throw new TemplateException($"{e.Message} (found while trying the {mailing} mail in {recipient.Locale} for {with})", e);
        }
    }

    /// <summary>Every subset of <paramref name="platforms"/>, each in their order, from none to all.</summary>
    private static IEnumerable<IReadOnlyList<string>> Combinations(IReadOnlyList<string> platforms)
    {
        for (var mask = 0; mask < 1 << platforms.Count; mask++)
        {
            yield return platforms.Where((_, i) => (mask & (1 << i)) != 0).ToList();
        }
    }

    /// <summary>
    /// Renders every mail both ways, in full and filled in, for addresses and links with characters that HTML encodes;
    /// the first difference, or null when there is none.
    /// </summary>
    private string? CompareVariants(MailVariants variants, DateTimeOffset deadline)
    {
        var platforms = _model.Platforms;
        DateTimeOffset[] times = [deadline.AddDays(-7), deadline.AddHours(-1), deadline.AddDays(1)];
        string[] emails = ["o'hara+news&more@example.invalid", "\"a<b>\"@exämple.invalid"];
        foreach (var (email, i) in emails.Select((e, i) => (e, i)))
        {
            var links = new MailLinks(
                $"https://example.invalid/confirm/{i}?a=1&b=\"2\"",
                $"https://example.invalid/unsubscribe/{i}?x=<y>&z='1'",
                platforms.ToDictionary(p => p, p => $"https://example.invalid/go/{i}/{p}?q=a&r=+"),
                platforms.ToDictionary(p => p, p => $"https://example.invalid/done/{i}/{p}?s=\"t\""));
            foreach (var locale in Mailings.Locales)
            {
                foreach (var mailing in _campaign.Mails)
                {
                    foreach (var now in times)
                    {
                        var recipient = new Recipient(i, email, locale, i == 0 ? platforms : platforms.Take(1).ToList());
                        var (daysLeft, afterDeadline) = _model.Day(now);
                        var full = RenderInFull(mailing, locale, recipient, links, now);
                        var filled = variants.Render(mailing, locale, string.Create(CultureInfo.InvariantCulture, $"{daysLeft}{afterDeadline}"), recipient, links,
                            (marked, markedLinks) => RenderInFull(mailing, locale, marked, markedLinks, now));
                        if (full != filled)
                        {
                            return $"filling in the {mailing} mail in {locale} does not give what rendering it gives";
                        }
                    }
                }
            }
        }

        return null;
    }

    private static ScriptObject CreateBuiltins()
    {
        var builtins = new ScriptObject();
        builtins.SetValue("include", new IncludeFunction(), readOnly: true);
        builtins.SetValue("empty", EmptyScriptObject.Default, readOnly: true);
        builtins.SetValue("blank", EmptyScriptObject.Default, readOnly: true);
        foreach (var (name, functions) in new (string, ScriptObject)[]
        {
            ("array", new ArrayFunctions()),
            ("html", new HtmlFunctions()),
            ("math", new MathFunctions()),
            ("object", new ObjectFunctions()),
            ("string", new StringFunctions()),
        })
        {
            functions.IsReadOnly = true;
            builtins.SetValue(name, functions, readOnly: true);
        }

        builtins.IsReadOnly = true;
        return builtins;
    }
}
