using Mailer.Subscribers;

namespace Mailer.Signups;

/// <summary>The log lines of signup and the confirmation mail. Subscriber ids only: never an address, a client IP or a token.</summary>
internal static partial class SignupLog
{
    [LoggerMessage(2001, LogLevel.Information, "Signup recorded for subscriber {SubscriberId}: {Outcome}, confirmation mail requested: {ConfirmationRequested}")]
    public static partial void SignupRecorded(ILogger logger, long subscriberId, SignupOutcome outcome, bool confirmationRequested);

    [LoggerMessage(2002, LogLevel.Information, "Signup rejected: invalid {Fields}")]
    public static partial void SignupRejected(ILogger logger, string fields);

    [LoggerMessage(2003, LogLevel.Information, "Signup with a filled honeypot answered as accepted and dropped")]
    public static partial void HoneypotFilled(ILogger logger);

    [LoggerMessage(2005, LogLevel.Warning, "Confirmation mail job for subscriber {SubscriberId} could not be queued; the sweep will pick it up")]
    public static partial void ConfirmationJobNotQueued(ILogger logger, long subscriberId, Exception exception);

    [LoggerMessage(2006, LogLevel.Information, "Signup refused by the rate limit")]
    public static partial void SignupRateLimited(ILogger logger);

    [LoggerMessage(2020, LogLevel.Information, "Confirmation mail to subscriber {SubscriberId} accepted by the transport")]
    public static partial void ConfirmationMailSent(ILogger logger, long subscriberId);

    [LoggerMessage(2021, LogLevel.Debug, "Confirmation mail to subscriber {SubscriberId} not due (confirmed, gone, already sent, claimed by another job or its link expired)")]
    public static partial void ConfirmationMailNotDue(ILogger logger, long subscriberId);

    [LoggerMessage(2022, LogLevel.Warning, "Confirmation mail to subscriber {SubscriberId} refused for good; not retried")]
    public static partial void ConfirmationMailRejected(ILogger logger, long subscriberId);

    [LoggerMessage(2023, LogLevel.Warning, "Confirmation mail to subscriber {SubscriberId} failed transiently; it stays due")]
    public static partial void ConfirmationMailDeferred(ILogger logger, long subscriberId);

    [LoggerMessage(2024, LogLevel.Warning, "Confirmation mail job stopped after {Failures} transient failures in a row; the sweep sends the rest")]
    public static partial void ConfirmationJobStopped(ILogger logger, int failures);

    [LoggerMessage(2025, LogLevel.Warning, "{Count} confirmation mails asked for and not sent: enqueued again")]
    public static partial void ConfirmationsRequeued(ILogger logger, int count);
}
