using Mailer.Campaigns;
using Mailer.Storage;
using Mailer.Tests.Reliability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Campaigns;

public sealed class SendProgressTests
{
    private static readonly DateTimeOffset Start = new(2024, 5, 26, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Add_LogsOneLineEveryTenSeconds_WithTheCountsAndThePaceSinceTheLastLine()
    {
        var time = new FakeTimeProvider(Start);
        using var logs = new LogCapture();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var progress = new SendProgress(time, factory.CreateLogger<SendProgress>());

        for (var i = 0; i < 200; i++)
        {
            progress.Add("reminder-final", DeliveryOutcome.Sent(i, time.GetUtcNow(), null, "250 ok"));
        }

        progress.Add("reminder-final", DeliveryOutcome.Finished(200, "skipped", attempted: false, time.GetUtcNow(), "unsubscribed"));
        progress.Add("reminder-final", DeliveryOutcome.Finished(201, "failed", attempted: true, time.GetUtcNow(), "550 no"));
        Assert.Empty(Lines());   // not ten seconds yet

        time.Advance(TimeSpan.FromSeconds(10));
        progress.Add("reminder-final", DeliveryOutcome.Requeued(202, attempted: true, time.GetUtcNow(), time.GetUtcNow(), "451 later"));
        var line = Assert.Single(Lines());
        Assert.Contains("Mailing reminder-final: 200 sent, 1 failed, 1 skipped, 1 back in the queue by this process; 20 sent a second lately", line);

        time.Advance(TimeSpan.FromSeconds(5));
        progress.Add("reminder-final", DeliveryOutcome.Sent(203, time.GetUtcNow(), null, "250 ok"));
        Assert.Single(Lines());   // the next line comes ten seconds after the last

        IReadOnlyList<string> Lines() => [.. logs.Lines.Where(l => l.Contains("[4009]", StringComparison.Ordinal))];
    }

    [Fact]
    public void Add_CountsEachMailingApart()
    {
        var time = new FakeTimeProvider(Start);
        using var logs = new LogCapture();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var progress = new SendProgress(time, factory.CreateLogger<SendProgress>());

        progress.Add("announcement", DeliveryOutcome.Sent(1, time.GetUtcNow(), null, "250 ok"));
        progress.Add("reminder-week", DeliveryOutcome.Sent(2, time.GetUtcNow(), null, "250 ok"));
        time.Advance(TimeSpan.FromSeconds(11));
        progress.Add("announcement", DeliveryOutcome.Sent(3, time.GetUtcNow(), null, "250 ok"));

        var line = Assert.Single(logs.Lines, l => l.Contains("[4009]", StringComparison.Ordinal));
        Assert.Contains("Mailing announcement: 2 sent, 0 failed, 0 skipped, 0 back", line);
    }
}
