using Mailer.Storage;

namespace Mailer.Campaigns;

/// <summary>
/// What a send job that lost its store writes down once the store is back: the outcome of the message the server had
/// already answered (so it is not sent again) and the untried rows back to the queue, in one transaction. It asks every
/// <see cref="StoreOutage.PollInterval"/> until the store takes it, the batch's lease has run out (then the rows come back
/// by themselves, and only that one message can go out twice, as after a crash) or the host stops.
/// </summary>
internal static class OutageRecorder
{
    /// <summary>True once recorded; false if the lease ran out or the host stopped first.</summary>
    public static async Task<bool> RecordWhenBackAsync(DeliveryLedger ledger, string owner, IReadOnlyCollection<DeliveryOutcome> outcomes,
        Func<bool> leaseOver, ILogger logger, CancellationToken cancellationToken)
    {
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var db = await ledger.OpenAsync(cancellationToken);
                await ledger.RecordAsync(db, owner, outcomes);
                CampaignsLog.StoreBack(logger, outcomes.Count, attempt);
                return true;
            }
            catch (Exception e) when (StoreOutage.Is(e) && !leaseOver())
            {
                // Wall-clock time, not the campaign's clock: the database comes back when it comes back.
                try
                {
                    await Task.Delay(StoreOutage.PollInterval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
            catch (Exception e) when (StoreOutage.Is(e) || e is OperationCanceledException)
            {
                // The lease ran out: the rows are the next claim's now.
                return false;
            }
        }

        return false;
    }
}
