using System.Globalization;
using System.Text;
using Dapper;
using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Hosting;
using Mailer.OperatorData;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.OperatorData;

public class ImportCommandTests
{
    internal const string Header = "email,locale,platforms,consent_at,consent_source\n";

    /// <summary>A host over the store these tests run on: SQLite here, PostgreSQL in <see cref="ImportCommandOnPostgreSqlTests"/>.</summary>
    internal virtual Task<OperatorHost> StartHostAsync() => OperatorHost.StartAsync("import");

    [Fact]
    public async Task Import_ValidFile_StoresConfirmedSubscribersWithAnImportConsent()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@example.org,de,facebook;instagram,2024-04-01T10:00:00+02:00,newsletter-2023
             Bert@Example.ORG ,en,instagram,2024-04-02T08:00:00Z,Messe Stand
            carla@example.org,,,2024-04-03T08:00:00.5Z,form-v1
            """);

        var result = await host.RunAsync("import", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("imported 3, skipped (already known) 0, rejected 0", result.Output);
        var subscribers = await host.SubscribersAsync();
        Assert.Equal(
            [
                new("anna@example.org", "de", "facebook,instagram", "confirmed", Ms(OperatorHost.Now), Ms("2024-04-01T08:00:00Z")),
                new("bert@example.org", "en", "instagram", "confirmed", Ms(OperatorHost.Now), Ms("2024-04-02T08:00:00Z")),
                new StoredSubscriber("carla@example.org", "de", "facebook,instagram", "confirmed", Ms(OperatorHost.Now), Ms("2024-04-03T08:00:00.5Z")),
            ],
            subscribers);
        var consents = await host.ConsentsAsync();
        Assert.Equal(
            [
                new("anna@example.org", "import", "newsletter-2023", Ms("2024-04-01T08:00:00Z"), null, null),
                new("bert@example.org", "import", "Messe Stand", Ms("2024-04-02T08:00:00Z"), null, null),
                new StoredConsent("carla@example.org", "import", "form-v1", Ms("2024-04-03T08:00:00.5Z"), null, null),
            ],
            consents);
    }

    [Fact]
    public async Task Import_SameFileTwice_ChangesNothing()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@example.org,de,facebook,2024-04-01T10:00:00Z,newsletter
            bert@example.org,en,,2024-04-02T10:00:00Z,newsletter
            """);
        await host.RunAsync("import", file);
        var subscribers = await host.SubscribersAsync();
        var consents = await host.ConsentsAsync();

        host.Time.Advance(TimeSpan.FromDays(1));
        var again = await host.RunAsync("import", file);

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("imported 0, skipped (already known) 2, rejected 0", again.Output);
        Assert.Equal(subscribers, await host.SubscribersAsync());
        Assert.Equal(consents, await host.ConsentsAsync());
    }

    [Fact]
    public async Task Import_NeverResubscribesSomeoneWhoUnsubscribed()
    {
        await using var host = await StartHostAsync();
        var id = await host.InsertSubscriberAsync("anna@example.org", status: "unsubscribed");
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@example.org,en,instagram,2024-04-01T10:00:00Z,newsletter
            bert@example.org,de,,2024-04-01T10:00:00Z,newsletter
            """);

        var result = await host.RunAsync("import", file);

        Assert.Contains("imported 1, skipped (already known) 1, rejected 0", result.Output);
        var anna = Assert.Single(await host.SubscribersAsync(), s => s.Email == "anna@example.org");
        Assert.Equal(("unsubscribed", "de", "facebook,instagram"), (anna.Status, anna.Locale, anna.Platforms));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM consents WHERE subscriber_id = @id", new { id }));
    }

    [Fact]
    public async Task Import_RowsWithoutProofOfConsent_AreRejectedWithTheirLineNumbers_AndNothingIsStored()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + """
            ok@example.org,de,,2024-04-01T10:00:00Z,form
            no-time@example.org,de,,,form
            no-source@example.org,de,,2024-04-01T10:00:00Z,
            local-time@example.org,de,,2024-04-01 10:00:00,form
            future@example.org,de,,2024-06-01T10:00:00Z,form
            words@example.org,de,,yesterday,form
            """);

        var result = await host.RunAsync("import", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 3: no proof of consent", result.Output);
        Assert.Contains("line 4: no proof of consent", result.Output);
        Assert.Contains("line 5: consent_at is not an ISO-8601 time with an offset", result.Output);
        Assert.Contains("line 6: consent_at is in the future", result.Output);
        Assert.Contains("line 7: consent_at is not an ISO-8601 time", result.Output);
        Assert.DoesNotContain("line 2:", result.Output);
        Assert.Contains("5 rows rejected, 1 valid; nothing imported", result.Output);
        Assert.Contains("imported 0, skipped (already known) 0, rejected 5", result.Output);
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task Import_InvalidAddressesLocalesAndPlatforms_AreRejectedWithTheirReasons()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + $"""
            not-an-address,de,,2024-04-01T10:00:00Z,form
            "Anna <anna@example.org>",de,,2024-04-01T10:00:00Z,form
            two@@example.org,de,,2024-04-01T10:00:00Z,form
            {new string('x', 65)}@example.org,de,,2024-04-01T10:00:00Z,form
            anna@localhost,de,,2024-04-01T10:00:00Z,form
            anna@example.org,fr,,2024-04-01T10:00:00Z,form
            anna@example.org,de,facebook;tiktok,2024-04-01T10:00:00Z,form
            anna@example.org,de-AT,Instagram,2024-04-01T10:00:00Z,form
            """);

        var result = await host.RunAsync("import", file, "--skip-invalid");

        Assert.Equal(1, result.ExitCode);
        for (var line = 2; line <= 6; line++)
        {
            Assert.Contains($"line {line}: email is not a valid address", result.Output);
        }

        Assert.Contains("line 7: locale must be one of de, en", result.Output);
        Assert.Contains("line 8: unknown platform 'tiktok'", result.Output);
        Assert.DoesNotContain("line 9:", result.Output);
        Assert.Contains("imported 1, skipped (already known) 0, rejected 7", result.Output);
        var anna = Assert.Single(await host.SubscribersAsync());
        Assert.Equal(("de", "instagram"), (anna.Locale, anna.Platforms));
    }

    [Fact]
    public async Task Import_WithSkipInvalid_StoresTheValidRows_AndListsTheRejectedOnes()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@example.org,de,,2024-04-01T10:00:00Z,form
            bert@example.org,de,,,form
            carla@example.org,de,,2024-04-01T10:00:00Z,form
            """);

        var result = await host.RunAsync("import", file, "--skip-invalid");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 3: no proof of consent", result.Output);
        Assert.Contains("imported 2, skipped (already known) 0, rejected 1", result.Output);
        Assert.Equal(["anna@example.org", "carla@example.org"], (await host.SubscribersAsync()).Select(s => s.Email));
        Assert.Equal(2, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task Import_HostileCsv_IsReadAsData_WithLineNumbersOfTheFile()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header
            + "\"evil\r\nBcc: all@example.org\",de,,2024-04-01T10:00:00Z,form\r\n"
            + "<script>alert(1)</script>@example.org,de,,2024-04-01T10:00:00Z,form\n"
            + "ok@example.org,de,\"facebook|instagram\",2024-04-01T10:00:00Z,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n"
            + "\"stray\"quote@example.org,de,,2024-04-01T10:00:00Z,form\n"
            + "=1+1@example.org,de,,2024-04-01T10:00:00Z,\"<script>alert(1)</script>\"\n"
            + "source@example.org,de,,2024-04-01T10:00:00Z,\"multi\nline\"\n"
            + "extra@example.org,de,facebook,instagram,2024-04-01T10:00:00Z,form\n");

        var result = await host.RunAsync("import", file, "--skip-invalid");

        Assert.Contains("line 2: email is not a valid address", result.Output);
        Assert.Contains("line 4: email is not a valid address", result.Output);
        Assert.Contains("line 6: broken quoting", result.Output);
        Assert.Contains("line 8: consent_source must be one line", result.Output);
        Assert.Contains("line 10: 6 fields where the header has 5", result.Output);
        Assert.Contains("imported 2, skipped (already known) 0, rejected 5", result.Output);
        Assert.DoesNotContain("all@example.org", result.Output);
        var consents = await host.ConsentsAsync();
        Assert.Equal(
            [("ok@example.org", "=HYPERLINK(\"http://evil.example\",\"click\")"), ("=1+1@example.org", "<script>alert(1)</script>")],
            consents.Select(c => (c.Email, c.ConsentTextVersion)));
    }

    [Fact]
    public async Task Import_SemicolonSeparatedFileFromASpreadsheet_IsRead()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("excel.csv",
            "\uFEFFEmail;Locale;Platforms;Consent_At;Consent_Source\r\n"
            + "anna@example.org;de;\"facebook;instagram\";2024-04-01T10:00:00+02:00;Unterschriftenliste\r\n"
            + "bert@example.org;en;facebook instagram;2024-04-01T10:00:00+02:00;Unterschriftenliste\r\n");

        var result = await host.RunAsync("import", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            [("anna@example.org", "facebook,instagram"), ("bert@example.org", "facebook,instagram")],
            (await host.SubscribersAsync()).Select(s => (s.Email, s.Platforms)));
    }

    [Fact]
    public async Task Import_Latin1File_RejectsTheRowsThatAreNotUtf8()
    {
        await using var host = await StartHostAsync();
        var file = host.Path("latin1.csv");
        File.WriteAllBytes(file, Encoding.Latin1.GetBytes(Header
            + "anna@example.org,de,,2024-04-01T10:00:00Z,form\n"
            + "m\u00fcller@example.org,de,,2024-04-01T10:00:00Z,form\n"
            + "bert@example.org,de,,2024-04-01T10:00:00Z,Zustimmung f\u00fcr Newsletter\n"));

        var result = await host.RunAsync("import", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 3: the row is not valid UTF-8 text", result.Output);
        Assert.Contains("line 4: the row is not valid UTF-8 text", result.Output);
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
    }

    [Fact]
    public async Task Import_FileWithoutTheRequiredColumns_ImportsNothing()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", "email,language,platforms\nanna@example.org,de,\n");

        var result = await host.RunAsync("import", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("missing: locale, consent_at, consent_source", result.Output);
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
    }

    [Fact]
    public async Task Import_SameAddressTwiceInOneFile_StoresTheFirstRow()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@Example.org,de,facebook,2024-04-01T10:00:00Z,first
             anna@example.ORG,en,instagram,2024-04-02T10:00:00Z,second
            """);

        var result = await host.RunAsync("import", file);

        Assert.Contains("imported 1, skipped (already known) 1, rejected 0", result.Output);
        var anna = Assert.Single(await host.SubscribersAsync());
        Assert.Equal(("anna@example.org", "de", "facebook"), (anna.Email, anna.Locale, anna.Platforms));
        Assert.Equal("first", Assert.Single(await host.ConsentsAsync()).ConsentTextVersion);
    }

    [Fact]
    public async Task Import_LargeFile_IsWrittenInBatches_WithProgress()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + Rows(2_500));
        var command = host.Import(batchSize: 1_000, progressEvery: 1_000);

        var result = await host.RunAsync(command, file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("checked 2,000 rows…", result.Output);
        // SQLite writes in a second pass of its own; PostgreSQL copies each row as it is checked, then stores them at once.
        Assert.Contains(host.Database.IsSqlite ? "imported 2,000 of 2,500 rows…" : "storing 2,500 rows in one transaction…", result.Output);
        Assert.Contains("imported 2,500, skipped (already known) 0, rejected 0", result.Output);
        Assert.Equal(2_500, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(2_500, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task Import_Interrupted_KeepsWhatWasCommitted_AndRunningItAgainFinishes()
    {
        await using var host = await StartHostAsync();
        var file = host.WriteFile("subscribers.csv", Header + Rows(2_500));
        using var cancellation = new CancellationTokenSource();
        // Halfway through the writing pass; on PostgreSQL that is the one pass, which checks and copies.
        var output = new CancelOnWriter(host.Database.IsSqlite ? "imported 1,500 of" : "checked 1,500 rows", cancellation);

        var code = await host.Import(batchSize: 1_000, progressEvery: 500)
            .RunAsync(CommandArguments.Parse([file]), output, cancellation.Token);

        // SQLite commits each batch of 1,000 on its own; PostgreSQL writes the whole file in one transaction.
        var committed = host.Database.IsSqlite ? 1_000 : 0;
        Assert.Equal(130, code);
        Assert.Contains(Invariant($"imported {committed:N0}, skipped (already known) 0"), output.ToString());
        Assert.Equal(committed, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(committed, await host.CountAsync("SELECT COUNT(*) FROM consents"));

        var again = await host.RunAsync("import", file);

        Assert.Contains(Invariant($"imported {2_500 - committed:N0}, skipped (already known) {committed:N0}, rejected 0"), again.Output);
        Assert.Equal(2_500, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task DataCommands_OnPostgreSql_BehaveAsOnSqlite()
    {
        await using var host = await OperatorHost.StartPostgreSqlAsync("import-pg");
        var bert = await host.InsertSubscriberAsync("bert@example.org", status: "unsubscribed");
        await host.ExecuteAsync(
            "INSERT INTO link_events (subscriber_id, kind, platform, at) VALUES (@bert, 'click', 'facebook', 1)", new { bert });
        var file = host.WriteFile("subscribers.csv", Header + """
            anna@example.org,de,facebook;instagram,2024-04-01T10:00:00+02:00,newsletter
            bert@example.org,en,,2024-04-01T10:00:00Z,newsletter
            carla@example.org,de,,,newsletter
            =1+1@example.org,en,instagram,2024-04-01T10:00:00Z,"=HYPERLINK(""x"")"
            """);

        var first = await host.RunAsync("import", file, "--skip-invalid");
        var second = await host.RunAsync("import", file, "--skip-invalid");
        var export = await host.RunAsync("export", "-");
        var erase = await host.RunAsync("erase", " bert@EXAMPLE.org");

        Assert.Contains("line 4: no proof of consent", first.Output);
        Assert.Contains("imported 2, skipped (already known) 1, rejected 1", first.Output);
        Assert.Contains("imported 0, skipped (already known) 3, rejected 1", second.Output);
        Assert.Contains("anna@example.org,de,\"facebook,instagram\",,confirmed,2024-05-10T12:00:00.000Z,2024-04-01T08:00:00.000Z,,import,newsletter,", export.Output);
        Assert.Contains("\"'=1+1@example.org\",en,instagram,", export.Output);
        Assert.Contains("\"'=HYPERLINK(\"\"x\"\")\"", export.Output);
        Assert.StartsWith("erased (the subscriber, 0 consent records, 1 link events, 0 deliveries)", erase.Output);
        Assert.Equal(["anna@example.org", "=1+1@example.org"], (await host.SubscribersAsync()).Select(s => s.Email));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM link_events"));
    }

    [Theory]
    [InlineData]
    [InlineData("a.csv", "b.csv")]
    [InlineData("a.csv", "--force")]
    [InlineData("missing.csv")]
    public async Task Import_WithBadArguments_IsAUsageError(params string[] args)
    {
        await using var host = await StartHostAsync();
        var command = host.Command<ImportCommand>();

        await Assert.ThrowsAsync<UsageException>(() =>
            command.RunAsync(CommandArguments.Parse([.. args.Select(a => a.EndsWith(".csv", StringComparison.Ordinal) ? host.Path(a) : a)]), TextWriter.Null, TestContext.Current.CancellationToken));
        var result = await host.RunAsync(["import", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: mailer import FILE.csv [--skip-invalid]", result.Error);
    }

    [Fact]
    public async Task UnknownVerb_IsAUsageError_ThatListsTheDataCommands()
    {
        await using var host = await StartHostAsync();

        var result = await host.RunAsync("imprt", "subscribers.csv");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Unknown command 'imprt'", result.Error);
        Assert.Contains("  erase ADDRESS", result.Error);
        Assert.Contains("  export FILE.csv|-", result.Error);
        Assert.Contains("  import FILE.csv", result.Error);
    }

    internal static string Rows(int count) => string.Concat(Enumerable.Range(0, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture, $"person{i}@example.org,de,,2024-04-01T10:00:00Z,bulk\n")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static long Ms(DateTimeOffset instant) => instant.ToUnixTimeMilliseconds();

    private static long Ms(string instant) => Ms(DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture));

    /// <summary>Output that cancels the command when a line with <paramref name="marker"/> is written.</summary>
    private sealed class CancelOnWriter(string marker, CancellationTokenSource cancellation) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override Task WriteLineAsync(string? value)
        {
            if (value?.Contains(marker, StringComparison.Ordinal) == true)
            {
                cancellation.Cancel();
            }

            return base.WriteLineAsync(value);
        }
    }
}

internal sealed record StoredSubscriber(string Email, string Locale, string Platforms, string Status, long CreatedAt, long? ConfirmedAt);

internal sealed record StoredConsent(string Email, string Source, string ConsentTextVersion, long GivenAt, string? ClientIp, string? UserAgent);

internal sealed record CommandResult(int ExitCode, string Output, string Error);

/// <summary>
/// The operators' data commands over a real SQLite store in a temporary folder, registered as the program
/// registers them, run through the real dispatcher (which migrates the schema and turns usage errors into exit code 2).
/// </summary>
internal sealed class OperatorHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2024, 5, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;
    private PostgresTestDatabase? _postgres;

    private OperatorHost(ServiceProvider services, string folder, FakeTimeProvider time)
    {
        _services = services;
        Folder = folder;
        Time = time;
    }

    public string Folder { get; }

    public FakeTimeProvider Time { get; }

    public Database Database => _services.GetRequiredService<Database>();

    public static async Task<OperatorHost> StartAsync(string purpose, StorageOptions? storage = null)
    {
        var folder = TestPaths.NewTemporaryDirectory(purpose);
        var time = new FakeTimeProvider(Now);
        var campaign = new CampaignOptions();
        campaign.Platforms["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" };
        campaign.Platforms["instagram"] = new PlatformOptions { FormUrl = "https://help.instagram.com/contact/767264225370182" };

        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(time)
            .AddSingleton(Options.Create(storage ?? new StorageOptions()))
            .AddSingleton(Options.Create(new MailerOptions { DataDirectory = folder }))
            .AddSingleton(Options.Create(campaign))
            .AddSingleton(CampaignCatalog.Of(campaign))
            .AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = folder, EnvironmentName = Environments.Development })
            .AddSingleton<Database>()
            .AddSingleton<SchemaMigrator>()
            .AddOperatorDataCommands()
            .BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        return new OperatorHost(services, folder, time);
    }

    /// <summary>
    /// The same over a fresh database on the PostgreSQL server of <c>MAILER_TEST_POSTGRES</c>, dropped afterwards;
    /// skipped without one (failed under <c>CI=true</c>, see <see cref="PostgresTestDatabase"/>).
    /// </summary>
    public static async Task<OperatorHost> StartPostgreSqlAsync(string purpose)
    {
        var postgres = await PostgresTestDatabase.CreateAsync();
        var host = await StartAsync(purpose, postgres.StorageOptions);
        host._postgres = postgres;
        return host;
    }

    public T Command<T>() where T : IOperatorCommand => _services.GetServices<IOperatorCommand>().OfType<T>().Single();

    public ImportCommand Import(int batchSize, int progressEvery) =>
        new(Database, _services.GetRequiredService<CampaignCatalog>(), Time) { BatchSize = batchSize, ProgressEvery = progressEvery };

    public Task<CommandResult> RunAsync(params string[] args) => RunAsync(_services, args);

    /// <summary>Runs <paramref name="command"/> (not the registered one) through the dispatcher.</summary>
    public Task<CommandResult> RunAsync(IOperatorCommand command, params string[] args)
    {
        var services = new ServiceCollection()
            .AddSingleton(_services.GetRequiredService<SchemaMigrator>())
            .AddSingleton(command)
            .BuildServiceProvider();
        return RunAsync(services, [command.Verb, .. args]);
    }

    public string Path(string name) => System.IO.Path.Combine(Folder, name);

    public string WriteFile(string name, string content)
    {
        File.WriteAllText(Path(name), content);
        return Path(name);
    }

    public async Task<long> InsertSubscriberAsync(string email, string status = "confirmed", string platforms = "facebook,instagram")
    {
        await using var connection = await Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirmed_at)
            VALUES ('meta-ai-objection', @email, 'de', @platforms, @status, 1700000000000, 1700000060000) RETURNING id
            """,
            new { email, status, platforms });
    }

    public async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<List<StoredSubscriber>> SubscribersAsync()
    {
        await using var connection = await Database.OpenAsync();
        return [.. await connection.QueryAsync<StoredSubscriber>(
            "SELECT email, locale, platforms, status, created_at AS CreatedAt, confirmed_at AS ConfirmedAt FROM subscribers ORDER BY id")];
    }

    public async Task<List<StoredConsent>> ConsentsAsync()
    {
        await using var connection = await Database.OpenAsync();
        return [.. await connection.QueryAsync<StoredConsent>(
            """
            SELECT s.email, c.source, c.consent_text_version AS ConsentTextVersion, c.given_at AS GivenAt,
                   c.client_ip AS ClientIp, c.user_agent AS UserAgent
            FROM consents c JOIN subscribers s ON s.id = c.subscriber_id ORDER BY c.id
            """)];
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A connection still closing elsewhere; the temporary folder is left for the system to clean.
        }
    }

    private static async Task<CommandResult> RunAsync(IServiceProvider services, string[] args)
    {
        var command = OperatorCommands.Parse(args) ?? throw new ArgumentException("no verb", nameof(args));
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await OperatorCommands.RunAsync(services, command, output, error);
        return new CommandResult(code, output.ToString(), error.ToString());
    }
}
