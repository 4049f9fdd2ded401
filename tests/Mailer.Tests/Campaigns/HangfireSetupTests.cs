using Hangfire;
using Hangfire.InMemory;
using Mailer.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Campaigns;

public class HangfireSetupTests
{
    [Fact]
    public async Task InMemoryStorage_KeepsFinishedJobsFor_InMemoryHistory()
    {
        await using var app = new MailerAppFactory { Settings = { ["Hangfire:InMemoryHistory"] = "00:02:00" } };

        var storage = Assert.IsType<InMemoryStorage>(app.Services.GetRequiredService<JobStorage>());

        Assert.Equal(TimeSpan.FromMinutes(2), storage.Options.MaxExpirationTime);
    }

    [Fact]
    public async Task InMemoryStorage_ByDefault_KeepsFinishedJobsHalfAnHour()
    {
        await using var app = new MailerAppFactory();

        var storage = Assert.IsType<InMemoryStorage>(app.Services.GetRequiredService<JobStorage>());

        Assert.Equal(TimeSpan.FromMinutes(30), storage.Options.MaxExpirationTime);
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("2.00:00:00")]
    public async Task InMemoryHistory_OutOfRange_StopsTheStart_NamingTheKey(string value)
    {
        await using var app = new MailerAppFactory { Settings = { ["Hangfire:InMemoryHistory"] = value } };

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<HangfireOptions>>().Value);

        Assert.Contains(error.Failures, failure => failure.Contains("Hangfire:InMemoryHistory", StringComparison.Ordinal));
    }
}
