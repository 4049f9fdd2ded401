namespace Mailer.Subscribers;

/// <summary>The log lines of keeping the list: what the retention removed, in counts only.</summary>
internal static partial class SubscribersLog
{
    [LoggerMessage(2030, LogLevel.Information, "{Count} addresses that never confirmed deleted with their consents (their links had expired)")]
    public static partial void NeverConfirmedDeleted(ILogger logger, int count);

    [LoggerMessage(2032, LogLevel.Information, "{Count} link events older than Subscribers:KeepLinkEventsFor lost their client address and user agent")]
    public static partial void LinkEventClientsRemoved(ILogger logger, int count);
}
