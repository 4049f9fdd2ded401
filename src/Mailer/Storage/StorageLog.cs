namespace Mailer.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(1001, LogLevel.Information, "Applied schema migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);
}
