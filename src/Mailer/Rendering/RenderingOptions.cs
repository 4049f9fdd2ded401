using System.ComponentModel.DataAnnotations;

namespace Mailer.Rendering;

/// <summary>The <c>Rendering</c> section: where the mail templates are.</summary>
public sealed class RenderingOptions
{
    public const string Section = "Rendering";

    /// <summary>
    /// Folder of the Scriban mail templates, absolute or relative to the content root. Default <c>templates</c>.
    /// Read once at start; a change needs a restart.
    /// </summary>
    [Required(ErrorMessage = "Rendering:TemplateDirectory is required, e.g. 'templates'.")]
    public string TemplateDirectory { get; set; } = "templates";
}
