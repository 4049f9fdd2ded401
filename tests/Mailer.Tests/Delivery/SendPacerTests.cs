using Mailer.Delivery;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Delivery;

public class SendPacerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public void Unlimited_NeverWaits()
    {
        var pacer = new SendPacer(new FakeTimeProvider(), perSecond: 0);

        Assert.All(Enumerable.Range(0, 100), _ => Assert.True(pacer.WaitAsync(Cancel).IsCompleted));
    }

    [Fact]
    public void TwoPerSecond_SpacesSendsHalfASecondApart()
    {
        var time = new FakeTimeProvider();
        var pacer = new SendPacer(time, perSecond: 2);

        var first = pacer.WaitAsync(Cancel);
        var second = pacer.WaitAsync(Cancel);
        var third = pacer.WaitAsync(Cancel);

        Assert.True(first.IsCompleted);
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(second.IsCompleted);
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(third.IsCompleted);
    }

    [Fact]
    public void AfterAQuietSpell_TheNextSendGoesAtOnce_WithoutABurst()
    {
        var time = new FakeTimeProvider();
        var pacer = new SendPacer(time, perSecond: 2);
        _ = pacer.WaitAsync(Cancel);

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(pacer.WaitAsync(Cancel).IsCompleted);
        Assert.False(pacer.WaitAsync(Cancel).IsCompleted);
    }
}
