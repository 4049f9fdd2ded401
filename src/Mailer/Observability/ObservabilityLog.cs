namespace Mailer.Observability;

internal static partial class ObservabilityLog
{
    [LoggerMessage(6001, LogLevel.Warning, "The ledger's waiting rows could not be read for the metrics; the gauge keeps its last numbers")]
    public static partial void WaitingNotRead(ILogger logger, Exception exception);

    [LoggerMessage(6002, LogLevel.Information, "Metrics are exported over OTLP to {Endpoint} every {Interval}")]
    public static partial void OtlpExporting(ILogger logger, string endpoint, TimeSpan interval);
}
