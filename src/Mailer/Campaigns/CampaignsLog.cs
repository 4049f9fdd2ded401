using System.Text.RegularExpressions;

namespace Mailer.Campaigns;

internal static partial class CampaignsLog
{
    [LoggerMessage(4001, LogLevel.Information, "Mailing {Mailing}: {Count} ledger rows created")]
    public static partial void RowsCreated(ILogger logger, string mailing, int count);

    [LoggerMessage(4002, LogLevel.Warning, "Mailing {Mailing}: its moment passed; {Count} rows recorded as skipped")]
    public static partial void MailingPassed(ILogger logger, string mailing, int count);

    [LoggerMessage(4003, LogLevel.Debug, "Mailing {Mailing}: claimed a batch of {Count}")]
    public static partial void BatchClaimed(ILogger logger, string mailing, int count);

    [LoggerMessage(4004, LogLevel.Warning, "Mailing {Mailing}: batch stopped, {Count} rows back in the queue (shutdown: {Stopping})")]
    public static partial void BatchStopped(ILogger logger, string mailing, int count, bool stopping);

    // A server's reply often names the address ("550 5.1.1 <anna@example.org>: Recipient address rejected"): it is
    // logged without it. The ledger keeps the reply whole, with the subscriber's row.
    public static void Rejected(ILogger logger, long deliveryId, string mailing, string reply) =>
        LogRejected(logger, deliveryId, mailing, WithoutAddresses(reply));

    public static void GaveUp(ILogger logger, long deliveryId, string mailing, int attempts, string reply) =>
        LogGaveUp(logger, deliveryId, mailing, attempts, WithoutAddresses(reply));

    [LoggerMessage(4005, LogLevel.Warning, "Delivery {DeliveryId} of {Mailing} rejected: {Reply}", EventName = "Rejected")]
    private static partial void LogRejected(ILogger logger, long deliveryId, string mailing, string reply);

    [LoggerMessage(4006, LogLevel.Warning, "Delivery {DeliveryId} of {Mailing} failed after {Attempts} attempts: {Reply}", EventName = "GaveUp")]
    private static partial void LogGaveUp(ILogger logger, long deliveryId, string mailing, int attempts, string reply);

    public static string WithoutAddresses(string reply) => MailAddress().Replace(reply, "(address)");

    [GeneratedRegex(@"[^\s<>""'(),;:\[\]]+@[^\s<>""'(),;:\[\]]+")]
    private static partial Regex MailAddress();

    [LoggerMessage(4008, LogLevel.Warning, "Mailing {Mailing}: the batch's lease ran out or was taken over while a message hung; the job stops, {Count} rows left to the next one")]
    public static partial void LeaseLost(ILogger logger, string mailing, int count);

    [LoggerMessage(4009, LogLevel.Information, "Mailing {Mailing}: {Sent} sent, {Failed} failed, {Skipped} skipped, {Requeued} back in the queue by this process; {PerSecond} sent a second lately")]
    public static partial void Progress(ILogger logger, string mailing, long sent, long failed, long skipped, long requeued, long perSecond);

    [LoggerMessage(4010, LogLevel.Warning, "Delivery {DeliveryId} of {Mailing} recorded failed: {Reason}")]
    public static partial void NotComposed(ILogger logger, long deliveryId, string mailing, string reason);

    [LoggerMessage(4030, LogLevel.Warning, "Mailing {Mailing}: the store is unavailable ({Error}); sending paused, {Count} rows in hand wait for it")]
    public static partial void StoreUnavailable(ILogger logger, string mailing, int count, string error);

    [LoggerMessage(4031, LogLevel.Information, "The store is back: {Count} outcomes of a paused batch recorded (attempt {Attempt})")]
    public static partial void StoreBack(ILogger logger, int count, int attempt);

    [LoggerMessage(4040, LogLevel.Warning, "{Keys} describe the campaign {Campaign} in the old form; write them as Campaigns:{Campaign}:Deadline, Campaigns:{Campaign}:Platforms, ... (the Campaign section keeps the engine's settings: PollInterval, BatchSize, LeaseDuration, MaxAttempts, RetryBaseDelay)")]
    public static partial void OldCampaignForm(ILogger logger, string keys, string campaign);

    [LoggerMessage(4041, LogLevel.Information, "Campaign {Campaign}: {Count} people of the standing list invited")]
    public static partial void StandingListInvited(ILogger logger, string campaign, int count);
}
