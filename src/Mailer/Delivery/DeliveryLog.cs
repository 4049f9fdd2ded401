namespace Mailer.Delivery;

/// <summary>Delivery's log lines: servers, files, status codes; never an address, a subject or a body.</summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(3001, LogLevel.Debug, "Connected to {Server} in {ElapsedMilliseconds} ms")]
    public static partial void Connected(ILogger logger, string server, long elapsedMilliseconds);

    [LoggerMessage(3002, LogLevel.Warning, "Could not connect to {Server}: {Error}")]
    public static partial void ConnectFailed(ILogger logger, string server, string error);

    [LoggerMessage(3003, LogLevel.Information, "Connection to {Server} broke ({Error}); the next message connects again")]
    public static partial void ConnectionBroken(ILogger logger, string server, string error);

    [LoggerMessage(3004, LogLevel.Information, "{Server} refused a message for now with status {StatusCode}")]
    public static partial void Deferred(ILogger logger, string server, int statusCode);

    [LoggerMessage(3005, LogLevel.Information, "{Server} refused a message for good with status {StatusCode}")]
    public static partial void Refused(ILogger logger, string server, int statusCode);

    [LoggerMessage(3008, LogLevel.Information, "{Server} cannot take a message: it lacks an extension the message needs")]
    public static partial void Unsupported(ILogger logger, string server);

    [LoggerMessage(3006, LogLevel.Debug, "Wrote {FileName} to the pickup folder")]
    public static partial void Written(ILogger logger, string fileName);

    [LoggerMessage(3007, LogLevel.Warning, "Could not write to the pickup folder {Directory}: {Error}")]
    public static partial void WriteFailed(ILogger logger, string directory, string error);
}
