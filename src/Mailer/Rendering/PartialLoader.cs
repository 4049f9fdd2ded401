using Scriban;
using Scriban.Parsing;
using Scriban.Runtime;
using Scriban.Syntax;

namespace Mailer.Rendering;

/// <summary>
/// Serves <c>{{ include "footer" }}</c> in one locale and part from the partials parsed at start: in an HTML mail
/// of <c>de</c> the name <c>footer</c> is <c>de/partials/footer.html.sbn</c>, in its text part
/// <c>de/partials/footer.txt.sbn</c>. No disk access and no parsing while rendering.
/// </summary>
internal sealed class PartialLoader(string folder, string part, IReadOnlyDictionary<string, Template> partials) : ITemplateLoader
{
    public IEnumerable<Template> Templates => partials.Values;

    public string GetPath(TemplateContext context, SourceSpan callerSpan, string templateName)
    {
        if (!partials.TryGetValue(templateName, out var template))
        {
            throw new ScriptRuntimeException(callerSpan,
                $"There is no partial '{templateName}': expected the file {Path.Combine(folder, $"{templateName}.{part}.sbn")}.");
        }

        // Scriban's include looks in the context's cache before it asks Load for text to parse. Putting the shared,
        // already parsed partial there makes each include a dictionary lookup.
        var path = template.SourceFilePath ?? templateName;
        context.CachedTemplates.TryAdd(path, template);
        return path;
    }

    public string Load(TemplateContext context, SourceSpan callerSpan, string templatePath) =>
        throw new ScriptRuntimeException(callerSpan, $"The partial {templatePath} was not loaded at start.");

    public ValueTask<string?> LoadAsync(TemplateContext context, SourceSpan callerSpan, string templatePath) =>
        ValueTask.FromResult<string?>(Load(context, callerSpan, templatePath));
}
