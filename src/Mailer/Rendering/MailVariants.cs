using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Scriban;
using Scriban.Syntax;

namespace Mailer.Rendering;

/// <summary>
/// Renders each variant of a mail once and fills in the subscriber per message. A variant is everything a mail
/// depends on except the subscriber's own values: the mailing, the language, the chosen platforms and the day.
/// Its subject, text and HTML are rendered with a marker where the address and each link go; a message is the
/// variant with the markers replaced by the subscriber's values, HTML-encoded in the HTML part just as
/// <see cref="MailModel"/> encodes them. A mail then costs a few string copies instead of evaluating every
/// template and partial again.
/// That holds only while the templates print these values and do nothing else with them, which is checked before
/// use: <see cref="WhyNot"/> reads every template for <c>email</c>, <c>unsubscribe_url</c>, <c>confirm_url</c>,
/// <c>url</c> and <c>done_url</c> used anywhere but in a plain <c>{{ value }}</c> (in a condition, a function,
/// an assignment), and the renderer compares both ways for unusual values at start. Where either finds a
/// difference, the renderer renders every mail in full.
/// </summary>
internal sealed class MailVariants
{
    private const int MaxVariants = 256;

    private static readonly HashSet<string> PersonalVariables = new(StringComparer.Ordinal) { "email", "unsubscribe_url", "confirm_url" };
    private static readonly HashSet<string> PersonalMembers = new(StringComparer.Ordinal) { "url", "done_url" };

    // Letters and digits only: OneLine and the HTML encoder leave it as it is, and no template text looks like it.
    private readonly string _marker;
    private readonly Regex _markers;
    private readonly ConcurrentDictionary<string, Variant> _variants = new(StringComparer.Ordinal);

    public MailVariants()
    {
        _marker = $"v{Guid.NewGuid():N}v";
        _markers = new Regex($"{_marker}([0-9]+){_marker}", RegexOptions.CultureInvariant);
    }

    /// <summary>
    /// A mail to <paramref name="recipient"/>: its variant (rendered by <paramref name="render"/> with markers on first
    /// use) with the recipient's values filled in. <paramref name="day"/> stands for whatever of the time the mail shows.
    /// </summary>
    public RenderedMail Render(string mailing, string locale, string day, Recipient recipient, MailLinks links,
        Func<Recipient, MailLinks, RenderedMail> render)
    {
        var platformKeys = links.PlatformUrls.Keys.ToList();
        var doneKeys = links.DoneUrls.Keys.ToList();
        var key = string.Join('|', mailing, locale, day, links.ConfirmUrl is null ? "-" : "c",
            string.Join(',', recipient.Platforms), string.Join(',', platformKeys), string.Join(',', doneKeys));

        if (!_variants.TryGetValue(key, out var variant))
        {
            if (_variants.Count >= MaxVariants)
            {
                // Days go by; the variants of past days are not needed again.
                _variants.Clear();
            }

            // Slot numbers: the address, the unsubscribe link, the confirm link, each platform link, each done link.
            var markedLinks = new MailLinks(
                links.ConfirmUrl is null ? null : Marker(2),
                Marker(1),
                platformKeys.Select((p, i) => (p, i)).ToDictionary(e => e.p, e => Marker(3 + e.i)),
                doneKeys.Select((p, i) => (p, i)).ToDictionary(e => e.p, e => Marker(3 + platformKeys.Count + e.i)));
            var marked = render(recipient with { Email = Marker(0) }, markedLinks);
            variant = new Variant(Split(marked.Subject), Split(marked.Text), Split(marked.Html));
            _variants[key] = variant;
        }

        string[] values = [
            MailModel.OneLine(recipient.Email),
            MailModel.OneLine(links.UnsubscribeUrl),
            MailModel.OneLine(links.ConfirmUrl ?? ""),
            .. platformKeys.Select(p => MailModel.OneLine(links.PlatformUrls[p])),
            .. doneKeys.Select(p => MailModel.OneLine(links.DoneUrls[p])),
        ];
        var encoded = values.Select(MailModel.HtmlEncode).ToArray();
        return new RenderedMail(variant.Subject.Fill(values), variant.Html.Fill(encoded), variant.Text.Fill(values));
    }

    /// <summary>Why the variants cannot stand in for full rendering with these templates (file and line), or null when they can.</summary>
    public static string? WhyNot(IEnumerable<Template> templates)
    {
        foreach (var template in templates)
        {
            if (FirstMisuse(template.Page) is { } node)
            {
                return $"{template.SourceFilePath}({node.Span.Start.Line + 1}): a subscriber's address or link is used in more than {{{{ value }}}}";
            }
        }

        return null;
    }

    private static ScriptNode? FirstMisuse(ScriptNode? node)
    {
        if (node is null)
        {
            return null;
        }

        var isMemberName = node.Parent is ScriptMemberExpression owner && ReferenceEquals(owner.Member, node);
        var misused = node switch
        {
            // A value is printed as it is, or not used at all.
            ScriptMemberExpression { Member.Name: var member } => PersonalMembers.Contains(member) && node.Parent is not ScriptExpressionStatement,
            ScriptIndexerExpression indexer => indexer.Index is ScriptLiteral { Value: string name } && PersonalMembers.Contains(name)
                && node.Parent is not ScriptExpressionStatement,
            ScriptVariable { Name: var name } when !isMemberName && PersonalVariables.Contains(name) => node.Parent is not ScriptExpressionStatement,
            // The list is looped over, printed or looked into, never handed to a function that could read the links.
            ScriptVariable { Name: "platforms" } when !isMemberName =>
                node.Parent is not (ScriptForStatement or ScriptMemberExpression or ScriptIndexerExpression or ScriptExpressionStatement),
            _ => false,
        };
        if (misused)
        {
            return node;
        }

        for (var i = 0; i < node.ChildrenCount; i++)
        {
            if (FirstMisuse(node.GetChildren(i)) is { } misuse)
            {
                return misuse;
            }
        }

        return null;
    }

    private string Marker(int slot) => string.Create(CultureInfo.InvariantCulture, $"{_marker}{slot}{_marker}");

    private Part Split(string rendered)
    {
        var pieces = _markers.Split(rendered);
        // Split with a captured group: literal, slot, literal, slot, ..., literal.
        return new Part(
            [.. pieces.Where((_, i) => i % 2 == 0)],
            [.. pieces.Where((_, i) => i % 2 == 1).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]);
    }

    private sealed record Variant(Part Subject, Part Text, Part Html);

    /// <summary>Literal text around value slots: literal 0, slot 0, literal 1, ..., the last literal.</summary>
    private sealed record Part(string[] Literals, int[] Slots)
    {
        private readonly int _literalLength = Literals.Sum(l => l.Length);

        public string Fill(string[] values)
        {
            if (Slots.Length == 0)
            {
                return Literals[0];
            }

            var text = new StringBuilder(_literalLength + Slots.Sum(s => values[s].Length));
            for (var i = 0; i < Slots.Length; i++)
            {
                text.Append(Literals[i]).Append(values[Slots[i]]);
            }

            return text.Append(Literals[^1]).ToString();
        }
    }
}
