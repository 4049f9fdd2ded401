namespace Mailer.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(1001, LogLevel.Information, "Applied schema migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(1010, LogLevel.Warning, "{Method} {Route} answered 503: the store is unavailable ({Error} {Code})")]
    public static partial void StoreUnavailable(ILogger logger, string method, string route, string error, string code);
}
