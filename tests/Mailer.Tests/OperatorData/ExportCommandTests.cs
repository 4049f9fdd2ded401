using System.Globalization;
using System.Text;
using CsvHelper;
using Mailer.Cli;
using Mailer.OperatorData;
using Mailer.Subscribers;

namespace Mailer.Tests.OperatorData;

public class ExportCommandTests
{
    private const string Header = "email,locale,platforms,consent_at,consent_source\n";

    [Fact]
    public async Task Export_RoundTripsWhatImportWrote()
    {
        await using var host = await OperatorHost.StartAsync("export");
        host.WriteFile("in.csv", Header + """
            anna@example.org,de,facebook;instagram,2024-04-01T10:00:00+02:00,newsletter-2023
            Bert@example.org,en,instagram,2024-04-02T08:00:00.25Z,"Messe, Stand 4"
            """);
        await host.RunAsync("import", host.Path("in.csv"));

        var result = await host.RunAsync("export", host.Path("out.csv"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("exported 2 subscribers (2 lines)", result.Output);
        var rows = Read(File.ReadAllText(host.Path("out.csv")));
        Assert.Equal(ExportCommand.Columns, rows[0]);
        Assert.Equal(
            ["anna@example.org", "de", "facebook,instagram", "", "confirmed", "2024-05-10T12:00:00.000Z", "2024-04-01T08:00:00.000Z", "",
                "import", "newsletter-2023", "2024-04-01T08:00:00.000Z", "", "", "", "", "", "", "", "meta-ai-objection", "campaign"],
            rows[1]);
        Assert.Equal(
            ["bert@example.org", "en", "instagram", "", "confirmed", "2024-05-10T12:00:00.000Z", "2024-04-02T08:00:00.250Z", "",
                "import", "Messe, Stand 4", "2024-04-02T08:00:00.250Z", "", "", "", "", "", "", "", "meta-ai-objection", "campaign"],
            rows[2]);
        Assert.Equal(3, rows.Count);
    }

    [Fact]
    public async Task Export_WritesOneLinePerConsent_AndSubscribersWithoutOne()
    {
        await using var host = await OperatorHost.StartAsync("export");
        var anna = await host.InsertSubscriberAsync("anna@example.org", status: "unsubscribed");
        await host.ExecuteAsync(
            """
            UPDATE subscribers SET done_platforms = 'facebook', unsubscribed_at = 1700000120000 WHERE id = @anna;
            INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, client_ip, user_agent, confirmed_at, confirm_ip)
            VALUES (@anna, 'form', 'v1', 1700000000000, '203.0.113.7', 'Mozilla/5.0 (X11)', 1700000060000, '203.0.113.8'),
                   (@anna, 'api', 'v2', 1700000090000, NULL, NULL, NULL, NULL);
            """,
            new { anna });
        await host.InsertSubscriberAsync("bert@example.org");

        var result = await host.RunAsync("export", "-");

        var rows = Read(result.Output);
        Assert.Equal(4, rows.Count);
        Assert.Equal(
            ["anna@example.org", "de", "facebook,instagram", "facebook", "unsubscribed", "2023-11-14T22:13:20.000Z", "2023-11-14T22:14:20.000Z", "2023-11-14T22:15:20.000Z",
                "form", "v1", "2023-11-14T22:13:20.000Z", "203.0.113.7", "Mozilla/5.0 (X11)", "2023-11-14T22:14:20.000Z", "203.0.113.8", "", "", "", "meta-ai-objection", "campaign"],
            rows[1]);
        Assert.Equal(["anna@example.org", "api", "v2", "2023-11-14T22:14:50.000Z", "", "", "", "", "", "", "", "meta-ai-objection", "campaign"], rows[2].Take(1).Concat(rows[2].Skip(8)));
        // A subscriber without a consent: no purpose.
        Assert.Equal(["bert@example.org", "", "", "", "", "", "", "", "", "", "", "meta-ai-objection", ""], rows[3].Take(1).Concat(rows[3].Skip(8)));
    }

    [Fact]
    public async Task Export_ShowsSinceWhenMailIsStopped_AndEveryReportThatCameBack()
    {
        await using var host = await OperatorHost.StartAsync("export");
        var anna = await host.InsertSubscriberAsync("anna@example.org");
        await host.InsertSubscriberAsync("bert@example.org");
        await host.ExecuteAsync(
            """
            UPDATE subscribers SET suppressed_at = 1714557641000, suppressed_reason = 'hard bounce 5.1.1' WHERE id = @anna;
            INSERT INTO bounce_events (subscriber_id, kind, source, status, diagnostic, received_at, report_key)
            VALUES (@anna, 'soft', 'dsn', '4.2.2', 'smtp; 452 4.2.2 Mailbox full', 1714471241000, 'a'),
                   (@anna, 'hard', 'dsn', '5.1.1', 'X-Postfix; unknown user', 1714557641000, 'b');
            """,
            new { anna });

        var rows = Read((await host.RunAsync("export", "-")).Output);

        Assert.Equal(["2024-05-01T10:00:41.000Z", "hard bounce 5.1.1",
            "2024-04-30T10:00:41.000Z soft 4.2.2 (dsn): smtp; 452 4.2.2 Mailbox full | 2024-05-01T10:00:41.000Z hard 5.1.1 (dsn): X-Postfix; unknown user"],
            rows[1][^5..^2]);
        Assert.Equal(["", "", ""], rows[2][^5..^2]);
    }

    [Fact]
    public async Task Export_EscapesValuesThatASpreadsheetWouldRunAsFormulas()
    {
        await using var host = await OperatorHost.StartAsync("export");
        host.WriteFile("in.csv", Header + """
            =1+1@example.org,de,,2024-04-01T10:00:00Z,"=HYPERLINK(""http://evil.example"",""click"")"
            -2@example.org,de,,2024-04-01T10:00:00Z,@SUM(A1:A9)
            +3@example.org,de,,2024-04-01T10:00:00Z,+cmd|' /C calc'!A0
            """);
        await host.RunAsync("import", host.Path("in.csv"));
        var id = await host.InsertSubscriberAsync("plain@example.org");
        await host.ExecuteAsync(
            "INSERT INTO consents (subscriber_id, source, consent_text_version, given_at, user_agent) VALUES (@id, 'form', 'v1', 0, @agent)",
            new { id, agent = "\t=cmd" });

        var result = await host.RunAsync("export", "-");

        Assert.Contains("\"'=1+1@example.org\"", result.Output);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"", result.Output);
        var values = Read(result.Output).Skip(1).SelectMany(r => r).ToList();
        Assert.Contains("'-2@example.org", values);
        Assert.Contains("'@SUM(A1:A9)", values);
        Assert.Contains("'+3@example.org", values);
        Assert.Contains("'+cmd|' /C calc'!A0", values);
        Assert.Contains("'\t=cmd", values);
        Assert.DoesNotContain(values, v => v.Length > 0 && "=+-@\t\r".Contains(v[0]));
    }

    [Fact]
    public async Task Export_ToAFile_ReplacesItWhole_ReadableByItsOwnerOnly()
    {
        await using var host = await OperatorHost.StartAsync("export");
        await host.InsertSubscriberAsync("anna@example.org");
        var path = host.WriteFile("out.csv", "old content that is longer than the export will be, " + new string('x', 10_000));

        var result = await host.RunAsync("export", path);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("email,locale,", File.ReadAllText(path));
        Assert.Equal(2, Read(File.ReadAllText(path)).Count);
        Assert.Equal(["out.csv"], Directory.GetFiles(host.Folder, "*.csv*").Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(host.Folder, "*.tmp"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task Export_ToStandardOutput_WritesOnlyTheCsv()
    {
        await using var host = await OperatorHost.StartAsync("export");
        await host.InsertSubscriberAsync("anna@example.org");

        var result = await host.RunAsync("export", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith(string.Join(",", ExportCommand.Columns) + "\r\n", result.Output);
        Assert.Equal(2, Read(result.Output).Count);
    }

    [Theory]
    [InlineData]
    [InlineData("a.csv", "b.csv")]
    [InlineData("a.csv", "--all")]
    [InlineData("no-such-folder/a.csv")]
    public async Task Export_WithBadArguments_IsAUsageError(params string[] args)
    {
        await using var host = await OperatorHost.StartAsync("export");
        var command = host.Command<ExportCommand>();

        await Assert.ThrowsAsync<UsageException>(() =>
            command.RunAsync(CommandArguments.Parse([.. args.Select(a => a.EndsWith(".csv", StringComparison.Ordinal) ? host.Path(a) : a)]), TextWriter.Null, TestContext.Current.CancellationToken));
        var result = await host.RunAsync(["export", .. args.Select(a => a.EndsWith(".csv", StringComparison.Ordinal) ? host.Path(a) : a)]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: mailer export FILE.csv|-", result.Error);
    }

    private static List<string[]> Read(string csv)
    {
        using var reader = CsvReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(csv)), new CsvReaderOptions { Separator = ',', HasHeader = false }, leaveOpen: false);
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        }

        return rows;
    }
}
