namespace Mailer.Delivery;

/// <summary>
/// Spaces sends evenly to at most <c>perSecond</c> messages a second, over all callers together: each send takes
/// the next free slot and waits for it. Zero means no limit.
/// </summary>
internal sealed class SendPacer(TimeProvider time, int perSecond)
{
    private readonly long _interval = perSecond > 0 ? time.TimestampFrequency / perSecond : 0;
    private readonly Lock _gate = new();
    private long _nextSlot;

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        if (_interval == 0)
        {
            return Task.CompletedTask;
        }

        long now, slot;
        lock (_gate)
        {
            now = time.GetTimestamp();
            slot = Math.Max(now, _nextSlot);
            _nextSlot = slot + _interval;
        }

        return slot <= now
            ? Task.CompletedTask
            : Task.Delay(time.GetElapsedTime(now, slot), time, cancellationToken);
    }
}
