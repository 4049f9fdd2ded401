namespace Mailer.Bounces;

/// <summary>Bounces' log lines: kinds, DSN status codes, ledger and subscriber ids; never an address or a report's text.</summary>
internal static partial class BouncesLog
{
    [LoggerMessage(6001, LogLevel.Information, "Report {Kind} ({Source}, status {Status}) for {TagKind} {TagId}: {Outcome}")]
    public static partial void Recorded(ILogger logger, BounceKind kind, string source, string? status, BounceTagKind tagKind, long tagId, BounceOutcome outcome);

    [LoggerMessage(6002, LogLevel.Warning,
        "Receivers refuse our mail for policy (status {Status}, {TagKind} {TagId}): reputation or authentication, not the subscriber's address. Check DKIM, SPF, DMARC and whether the sending IP is listed")]
    public static partial void PolicyRefusal(ILogger logger, string? status, BounceTagKind tagKind, long tagId);

    [LoggerMessage(6003, LogLevel.Information, "A message in the bounce mailbox is {What}; left as read")]
    public static partial void NotCounted(ILogger logger, string what);

    [LoggerMessage(6004, LogLevel.Information,
        "Bounce mailbox {Folder}: {Read} messages read, {Recorded} recorded, {Duplicates} seen before, {AutoReplies} auto-replies, {Ignored} not counted")]
    public static partial void MailboxRead(ILogger logger, string folder, int read, int recorded, int duplicates, int autoReplies, int ignored);

    [LoggerMessage(6006, LogLevel.Warning, "SNS {Type} for topic {TopicArn}: to confirm, open {SubscribeUrl}")]
    public static partial void SnsSubscription(ILogger logger, string type, string topicArn, string subscribeUrl);

    [LoggerMessage(6007, LogLevel.Warning,
        "Mailing {Mailing} paused: {HardBounces} hard bounces of {Tried} messages is above Bounces:PauseAbove ({Limit}); 'resume {Mailing}' continues it")]
    public static partial void MailingPaused(ILogger logger, string mailing, long hardBounces, long tried, double limit);

    [LoggerMessage(6005, LogLevel.Warning, "Bounce mailbox {Server} could not be read: {Error}")]
    public static partial void MailboxFailed(ILogger logger, string server, string error);
}
