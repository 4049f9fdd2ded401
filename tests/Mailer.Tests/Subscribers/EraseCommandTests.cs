using Mailer.Cli;
using Mailer.Subscribers;

namespace Mailer.Tests.Subscribers;

public class EraseCommandTests
{
    private static readonly string[] Tables = ["subscribers", "consents", "link_events", "deliveries", "bounce_events"];

    [Fact]
    public async Task Erase_RemovesEveryRowOfThatPerson_AndNothingOfOthers()
    {
        await using var host = await OperatorHost.StartAsync("erase");
        var anna = await RecordEverythingAsync(host, "anna@example.org");
        var bert = await RecordEverythingAsync(host, "bert@example.org");

        var result = await host.RunAsync("erase", "anna@example.org");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("erased (the subscriber, 2 consent records, 2 link events, 2 deliveries)", result.Output);
        foreach (var table in Tables)
        {
            var column = table == "subscribers" ? "id" : "subscriber_id";
            Assert.Equal(0, await host.CountAsync($"SELECT COUNT(*) FROM {table} WHERE {column} = @anna", new { anna }));
            Assert.Equal(table == "subscribers" ? 1 : 2, await host.CountAsync($"SELECT COUNT(*) FROM {table} WHERE {column} = @bert", new { bert }));
            Assert.Equal(table == "subscribers" ? 1 : 2, await host.CountAsync($"SELECT COUNT(*) FROM {table}"));
        }
    }

    [Fact]
    public async Task Erase_UnknownAddress_PrintsNotFound_AndExitsZero()
    {
        await using var host = await OperatorHost.StartAsync("erase");
        await RecordEverythingAsync(host, "anna@example.org");

        var result = await host.RunAsync("erase", "bert@example.org");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("not found", result.Output.Trim());
        Assert.Equal(1, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
    }

    [Theory]
    [InlineData]
    [InlineData("anna@example.org", "bert@example.org")]
    [InlineData("anna@example.org", "--all")]
    [InlineData("not-an-address")]
    public async Task Erase_WithBadArguments_IsAUsageError(params string[] args)
    {
        await using var host = await OperatorHost.StartAsync("erase");
        var command = host.Command<EraseCommand>();

        await Assert.ThrowsAsync<UsageException>(() => command.RunAsync(CommandArguments.Parse(args), TextWriter.Null, TestContext.Current.CancellationToken));
        var result = await host.RunAsync(["erase", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: mailer erase ADDRESS", result.Error);
    }

    /// <summary>A subscriber with two of everything: consents, link events, deliveries, reports that came back.</summary>
    internal static async Task<long> RecordEverythingAsync(OperatorHost host, string email)
    {
        var id = await host.InsertSubscriberAsync(email);
        await host.ExecuteAsync(
            """
            INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, client_ip)
            VALUES (@id, 'form', 'v1', 1, '203.0.113.7'), (@id, 'api', 'v2', 2, NULL);
            INSERT INTO link_events (subscriber_id, kind, platform, at) VALUES (@id, 'click', 'facebook', 3), (@id, 'done', 'facebook', 4);
            INSERT INTO deliveries (subscriber_id, mailing, status, created_at, updated_at, not_before)
            VALUES (@id, 'confirm', 'sent', 5, 5, 5), (@id, 'announcement', 'queued', 6, 6, 6);
            INSERT INTO bounce_events (subscriber_id, kind, source, status, diagnostic, received_at, report_key)
            VALUES (@id, 'hard', 'dsn', '5.1.1', 'unknown user', 7, @email || '-a'), (@id, 'complaint', 'arf', NULL, NULL, 8, @email || '-b');
            """,
            new { id, email });
        return id;
    }
}
