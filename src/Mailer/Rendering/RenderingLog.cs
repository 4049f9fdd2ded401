namespace Mailer.Rendering;

internal static partial class RenderingLog
{
    [LoggerMessage(5001, LogLevel.Information, "Loaded {Count} mail templates from {Directory}")]
    public static partial void TemplatesLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(5002, LogLevel.Warning, "Template file {Path} is not used: its name is not a mailing, partial or layout the renderer knows")]
    public static partial void TemplateNotUsed(ILogger logger, string path);

    [LoggerMessage(5003, LogLevel.Warning, "Every mail is rendered in full for each subscriber, which is slower: {Reason}")]
    public static partial void RenderingInFull(ILogger logger, string reason);
}
