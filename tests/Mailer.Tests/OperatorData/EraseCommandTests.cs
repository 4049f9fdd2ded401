using Mailer.Cli;
using Mailer.OperatorData;
using Mailer.Subscribers;
using MimeKit;

namespace Mailer.Tests.OperatorData;

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

    [Fact]
    public async Task Erase_RemovesThePersonsMailsFromThePickupFolder_AndNoOneElses()
    {
        await using var host = await OperatorHost.StartAsync("erase");
        await RecordEverythingAsync(host, "anna@example.org");
        var outbox = Directory.CreateDirectory(host.Path("outbox")).FullName;
        var toAnna = await WriteMailAsync(outbox, "to-anna.eml", to: "\"Anna A.\" <Anna@Example.ORG>");
        var ccAnna = await WriteMailAsync(outbox, "cc-anna.eml", to: "bert@example.org", cc: "anna@example.org");
        var toBert = await WriteMailAsync(outbox, "to-bert.eml", to: "bert@example.org");
        var notAMail = Path.Combine(outbox, "notes.txt");
        await File.WriteAllTextAsync(notAMail, "To: anna@example.org\r\n\r\n", TestContext.Current.CancellationToken);

        var result = await host.RunAsync("erase", "ANNA@example.org");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"removed 2 mail files from {outbox}", result.Output);
        Assert.False(File.Exists(toAnna));
        Assert.False(File.Exists(ccAnna));
        Assert.True(File.Exists(toBert));
        Assert.True(File.Exists(notAMail));
    }

    [Fact]
    public async Task Erase_OfAnAddressTheStoreNoLongerKnows_StillRemovesItsMails()
    {
        await using var host = await OperatorHost.StartAsync("erase");
        var outbox = Directory.CreateDirectory(host.Path("outbox")).FullName;
        var mail = await WriteMailAsync(outbox, "confirm.eml", to: "anna@example.org");

        var result = await host.RunAsync("erase", "anna@example.org");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("not found", result.Output);
        Assert.Contains("removed 1 mail files", result.Output);
        Assert.False(File.Exists(mail));
        Assert.Equal("not found", (await host.RunAsync("erase", "anna@example.org")).Output.Trim());
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
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, created_at, updated_at, not_before)
            VALUES (@id, 'meta-ai-objection', 'confirm', 'sent', 5, 5, 5), (@id, 'meta-ai-objection', 'announcement', 'queued', 6, 6, 6);
            INSERT INTO bounce_events (subscriber_id, kind, source, status, diagnostic, received_at, report_key)
            VALUES (@id, 'hard', 'dsn', '5.1.1', 'unknown user', 7, @email || '-a'), (@id, 'complaint', 'arf', NULL, NULL, 8, @email || '-b');
            """,
            new { id, email });
        return id;
    }

    private static async Task<string> WriteMailAsync(string folder, string name, string to, string? cc = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("Kampagne <kampagne@example.org>"));
        message.To.AddRange(InternetAddressList.Parse(to));
        if (cc is not null)
        {
            message.Cc.AddRange(InternetAddressList.Parse(cc));
        }

        message.Subject = "Bitte bestätigen";
        message.Body = new TextPart("plain") { Text = "Hallo" };
        var path = Path.Combine(folder, name);
        await message.WriteToAsync(path, TestContext.Current.CancellationToken);
        return path;
    }
}
