using Scriban;
using Scriban.Parsing;

namespace Mailer.Rendering;

/// <summary>The files of one mail per locale: <c>{mailing}.subject.sbn</c>, <c>{mailing}.html.sbn</c>, <c>{mailing}.txt.sbn</c>.</summary>
internal static class MailPart
{
    public const string Subject = "subject";
    public const string Html = "html";
    public const string Text = "txt";

    public static readonly IReadOnlyList<string> All = [Subject, Html, Text];

    /// <summary>The parts that have a layout and partials; a subject is one line and includes the text partials.</summary>
    public static readonly IReadOnlyList<string> Bodies = [Html, Text];
}

/// <summary>
/// Every template of the templates folder, read and parsed once: per locale the three parts of each mailing and
/// the partials in <c>{locale}/partials/</c>, and the shared <c>layout.html.sbn</c> and <c>layout.txt.sbn</c>.
/// A missing file or a syntax error anywhere throws one <see cref="TemplateException"/> that lists them all
/// with file and line. Other folders (such as <c>pages/</c>) are not read.
/// </summary>
internal sealed class TemplateCatalog
{
    private readonly Dictionary<(string Locale, string Mailing, string Part), Template> _mails = [];
    private readonly Dictionary<string, Template> _layouts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Locale, string Part), PartialLoader> _partials = [];
    private readonly List<string> _problems = [];
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private TemplateCatalog(string shared, string directory, IReadOnlyList<string> mails)
    {
        Directory = directory;
        foreach (var part in MailPart.Bodies)
        {
            if (Read(Path.Combine(shared, $"layout.{part}.sbn")) is { } layout)
            {
                _layouts[part] = layout;
            }
        }

        foreach (var locale in Mailings.Locales)
        {
            foreach (var mailing in mails)
            {
                foreach (var part in MailPart.All)
                {
                    if (Read(Path.Combine(directory, locale, $"{mailing}.{part}.sbn")) is { } mail)
                    {
                        _mails[(locale, mailing, part)] = mail;
                    }
                }
            }

            var partialFiles = TemplateFiles(Path.Combine(directory, locale, "partials"));
            foreach (var part in MailPart.Bodies)
            {
                var suffix = $".{part}.sbn";
                var partials = new Dictionary<string, Template>(StringComparer.Ordinal);
                foreach (var file in partialFiles.Where(f => f.EndsWith(suffix, StringComparison.Ordinal)))
                {
                    if (Read(file) is { } partial)
                    {
                        partials[Path.GetFileName(file)[..^suffix.Length]] = partial;
                    }
                }

                _partials[(locale, part)] = new PartialLoader(Path.Combine(locale, "partials"), part, partials);
            }
        }

        if (_problems.Count > 0)
        {
            throw new TemplateException($"The mail templates in {directory} have errors:{Environment.NewLine}"
                + string.Join(Environment.NewLine, _problems));
        }

        Unused = TemplateFiles(shared)
            .Concat(TemplateFiles(directory))
            .Concat(Mailings.Locales.SelectMany(l => TemplateFiles(Path.Combine(directory, l))))
            .Concat(Mailings.Locales.SelectMany(l => TemplateFiles(Path.Combine(directory, l, "partials"))))
            .Where(f => !_read.Contains(f))
            .ToList();
    }

    public string Directory { get; }

    public int Count => _read.Count;

    /// <summary>Template files in the folder that none of the names above matched (a typo, a leftover).</summary>
    public IReadOnlyList<string> Unused { get; }

    /// <summary>
    /// The templates of one campaign: its mails and partials in <paramref name="shared"/>/<paramref name="campaign"/>/&lt;locale&gt;/,
    /// the layouts in <paramref name="shared"/> (the templates folder).
    /// </summary>
    public static TemplateCatalog Load(string shared, string campaign, IReadOnlyList<string> mails)
    {
        if (!System.IO.Directory.Exists(shared))
        {
            throw new TemplateException($"The template folder {shared} does not exist (Rendering:TemplateDirectory).");
        }

        var directory = Path.Combine(shared, campaign);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new TemplateException($"The templates of the campaign {campaign} are missing: the folder {Path.GetFullPath(directory)} does not exist "
                + "(each campaign has templates/<campaign>/<locale>/ with its mails; see templates/README.md).");
        }

        return new TemplateCatalog(Path.GetFullPath(shared), Path.GetFullPath(directory), mails);
    }

    /// <summary>Every template: mails, layouts and partials.</summary>
    public IEnumerable<Template> All => _mails.Values.Concat(_layouts.Values).Concat(_partials.Values.SelectMany(p => p.Templates));

    public Template Mail(string locale, string mailing, string part) => _mails[(locale, mailing, part)];

    public Template Layout(string part) => _layouts[part];

    /// <summary>The partials <c>include</c> finds in a <paramref name="part"/> of a mail in <paramref name="locale"/>.</summary>
    public PartialLoader Partials(string locale, string part) => _partials[(locale, part == MailPart.Subject ? MailPart.Text : part)];

    private Template? Read(string path)
    {
        if (!File.Exists(path))
        {
            _problems.Add($"{path} : error : the file is missing.");
            return null;
        }

        _read.Add(path);
        var template = Template.Parse(File.ReadAllText(path), path);
        _problems.AddRange(template.Messages.Where(m => m.Type == ParserMessageType.Error).Select(m => m.ToString()));
        return template;
    }

    private static List<string> TemplateFiles(string directory) =>
        System.IO.Directory.Exists(directory)
            ? System.IO.Directory.GetFiles(directory, "*.sbn").Order(StringComparer.Ordinal).ToList()
            : [];
}

/// <summary>A mail template is missing or broken; the message names each file and line.</summary>
public sealed class TemplateException(string message, Exception? innerException = null) : Exception(message, innerException);
