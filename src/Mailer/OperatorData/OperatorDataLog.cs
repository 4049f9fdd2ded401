namespace Mailer.OperatorData;

/// <summary>The log lines of the operators' data commands. Never an address.</summary>
internal static partial class OperatorDataLog
{
    [LoggerMessage(2031, LogLevel.Warning, "Pickup folder file {File} could not be read or removed while erasing: {Reason}")]
    public static partial void PickupFileNotErased(ILogger logger, string file, string reason);
}
