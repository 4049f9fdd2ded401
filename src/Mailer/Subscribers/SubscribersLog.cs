namespace Mailer.Subscribers;

/// <summary>The log lines of signup and the links in mails. Subscriber ids only: never an address, a client IP or a token.</summary>
internal static partial class SubscribersLog
{
    [LoggerMessage(2001, LogLevel.Information, "Signup recorded for subscriber {SubscriberId}: {Outcome}, confirmation mail requested: {ConfirmationRequested}")]
    public static partial void SignupRecorded(ILogger logger, long subscriberId, SignupOutcome outcome, bool confirmationRequested);

    [LoggerMessage(2002, LogLevel.Information, "Signup rejected: invalid {Fields}")]
    public static partial void SignupRejected(ILogger logger, string fields);

    [LoggerMessage(2003, LogLevel.Information, "Signup with a filled honeypot answered as accepted and dropped")]
    public static partial void HoneypotFilled(ILogger logger);

    [LoggerMessage(2004, LogLevel.Information, "Form on the {Page} page posted without a valid antiforgery token")]
    public static partial void FormTokenRejected(ILogger logger, string page);

    [LoggerMessage(2005, LogLevel.Warning, "Confirmation mail job for subscriber {SubscriberId} could not be queued; the sweep will pick it up")]
    public static partial void ConfirmationJobNotQueued(ILogger logger, long subscriberId, Exception exception);

    [LoggerMessage(2006, LogLevel.Information, "Signup refused by the rate limit")]
    public static partial void SignupRateLimited(ILogger logger);

    [LoggerMessage(2010, LogLevel.Information, "Subscriber {SubscriberId} confirmed")]
    public static partial void SubscriberConfirmed(ILogger logger, long subscriberId);

    [LoggerMessage(2011, LogLevel.Information, "{Purpose} link rejected: {Reason}")]
    public static partial void LinkRejected(ILogger logger, TokenPurpose purpose, string reason);

    [LoggerMessage(2012, LogLevel.Information, "Subscriber {SubscriberId} unsubscribed (one-click: {OneClick})")]
    public static partial void Unsubscribed(ILogger logger, long subscriberId, bool oneClick);

    [LoggerMessage(2013, LogLevel.Information, "Subscriber {SubscriberId} clicked through to {Platform}")]
    public static partial void ClickRecorded(ILogger logger, long subscriberId, string platform);

    [LoggerMessage(2014, LogLevel.Information, "Subscriber {SubscriberId} marked {Platform} done")]
    public static partial void DoneRecorded(ILogger logger, long subscriberId, string platform);

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

    [LoggerMessage(2030, LogLevel.Information, "{Count} addresses that never confirmed deleted with their consents (their links had expired)")]
    public static partial void NeverConfirmedDeleted(ILogger logger, int count);

    [LoggerMessage(2032, LogLevel.Information, "{Count} link events older than Subscribers:KeepLinkEventsFor lost their client address and user agent")]
    public static partial void LinkEventClientsRemoved(ILogger logger, int count);

    [LoggerMessage(2031, LogLevel.Warning, "Pickup folder file {File} could not be read or removed while erasing: {Reason}")]
    public static partial void PickupFileNotErased(ILogger logger, string file, string reason);
}
