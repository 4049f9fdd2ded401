using Mailer.Observability;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Observability;

/// <summary>The send rate: what was sent in the last minute, per second, per mailing of a campaign.</summary>
public class SendRateTests
{
    private const string Meta = "meta-ai-objection";

    [Fact]
    public void Rate_CountsTheLastMinuteOnly_PerMailingOfACampaign()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 19, 7, 0, 0, TimeSpan.Zero));
        var rate = new SendRate(time);

        rate.Add(Meta, "reminder-week", 30);
        time.Advance(TimeSpan.FromSeconds(30));
        rate.Add(Meta, "reminder-week", 90);
        rate.Add(Meta, "announcement", 6);
        rate.Add("tiktok-2025", "announcement", 60);

        Assert.Equal(2.0, rate.PerSecond(Meta, "reminder-week"));
        Assert.Equal(0.1, rate.PerSecond(Meta, "announcement"), 6);
        Assert.Equal(1.0, rate.PerSecond("tiktok-2025", "announcement"), 6);
        Assert.Equal(0, rate.PerSecond(Meta, "reminder-final"));

        time.Advance(TimeSpan.FromSeconds(31));     // the first 30 are older than a minute now
        Assert.Equal(1.5, rate.PerSecond(Meta, "reminder-week"));

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, rate.PerSecond(Meta, "reminder-week"));
    }

    [Fact]
    public void Rate_AfterTheClockWentBack_CountsNothingFromTheFuture()
    {
        var time = new SettableClock { Now = new DateTimeOffset(2024, 5, 19, 7, 0, 0, TimeSpan.Zero) };
        var rate = new SendRate(time);
        rate.Add(Meta, "announcement", 60);

        time.Now = time.Now.AddSeconds(-10);   // a system clock set back

        Assert.Equal(0, rate.PerSecond(Meta, "announcement"));
    }

    /// <summary>A clock that may go back, as a system clock can (FakeTimeProvider only goes forward).</summary>
    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
