namespace Mailer.Links;

/// <summary>The log lines of the links in mails. Subscriber ids only: never an address, a client IP or a token.</summary>
internal static partial class LinksLog
{
    [LoggerMessage(2004, LogLevel.Information, "Form on the {Page} page posted without a valid antiforgery token")]
    public static partial void FormTokenRejected(ILogger logger, string page);

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
}
