using System.Globalization;
using Npgsql;

namespace Mailer.Tests.OperatorData;

/// <summary>
/// Every import test of <see cref="ImportCommandTests"/> again on a fresh PostgreSQL database, where the import
/// is a binary copy into a staging table and one set-based insert in one transaction; and that this write ends
/// exactly as SQLite's row-by-row one, and leaves nothing behind when it fails.
/// </summary>
public sealed class ImportCommandOnPostgreSqlTests : ImportCommandTests
{
    internal override Task<OperatorHost> StartHostAsync() => OperatorHost.StartPostgreSqlAsync("import-pg");

    [Fact]
    public async Task Import_DuplicatesInTheFileAndKnownAddresses_EndAsOnSqlite()
    {
        var file = Header + """
            anna@example.org,en,instagram,2024-04-01T10:00:00Z,newsletter
            carla@Example.org,de,facebook,2024-04-01T10:00:00Z,first
            dora@example.org,en,,2024-04-02T10:00:00+02:00,form-v1
             CARLA@example.org ,en,instagram,2024-04-02T10:00:00Z,second
            bert@example.org,en,instagram,2024-04-03T10:00:00Z,newsletter
            emil@example.org,de,,,no proof
            dora@example.org,de,facebook,2024-04-04T10:00:00Z,again
            """ + "\n" + Rows(300);

        var sqlite = await ImportTwiceAsync(await OperatorHost.StartAsync("import-sqlite"), file);
        var postgres = await ImportTwiceAsync(await OperatorHost.StartPostgreSqlAsync("import-pg"), file);

        Assert.Contains("imported 302, skipped (already known) 4, rejected 1", sqlite.First);
        Assert.Contains("imported 0, skipped (already known) 306, rejected 1", sqlite.Second);
        Assert.Equal(sqlite.First, postgres.First);
        Assert.Equal(sqlite.Second, postgres.Second);
        Assert.Equal(sqlite.Subscribers, postgres.Subscribers);
        Assert.Equal(sqlite.Consents, postgres.Consents);
        Assert.Equal(("carla@example.org", "first"), (sqlite.Consents[0].Email, sqlite.Consents[0].ConsentTextVersion));
    }

    [Fact]
    public async Task Import_FailingMidway_LeavesNothingWritten_AndRunningItAgainImportsAll()
    {
        await using var host = await StartHostAsync();
        await host.InsertSubscriberAsync("known@example.org");
        // A rule of the store that one row far into the file breaks, while the subscribers before it are inserted.
        await host.ExecuteAsync("ALTER TABLE consents ADD CONSTRAINT test_refused CHECK (consent_text_version <> 'refused')");
        var rows = Rows(2_500).Split('\n');
        rows[2_000] = "refused@example.org,de,,2024-04-01T10:00:00Z,refused";
        var file = host.WriteFile("subscribers.csv", Header + string.Join('\n', rows));

        var failure = await Assert.ThrowsAsync<PostgresException>(() => host.RunAsync("import", file));

        Assert.Equal(PostgresErrorCodes.CheckViolation, failure.SqlState);
        Assert.Equal(1, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM consents"));

        await host.ExecuteAsync("ALTER TABLE consents DROP CONSTRAINT test_refused");
        var again = await host.RunAsync("import", file);

        Assert.Contains("imported 2,500, skipped (already known) 0, rejected 0", again.Output);
        Assert.Equal(2_501, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(2_500, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task Import_RejectedRowAfterThousandsCopied_WritesNothing()
    {
        await using var host = await StartHostAsync();
        // The rows before the bad one are copied into the transaction as they are checked; the rejection rolls it back.
        var file = host.WriteFile("subscribers.csv", Header + Rows(2_500) + "last@example.org,de,,,no proof");

        var result = await host.RunAsync(host.Import(batchSize: 1_000, progressEvery: 1_000), file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 2502: no proof of consent", result.Output);
        Assert.Contains("1 rows rejected, 2,500 valid; nothing imported", result.Output);
        Assert.DoesNotContain("storing", result.Output);
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM consents"));
    }

    [Fact]
    public async Task Import_AddressSignedUpWhileTheInsertRuns_IsSkippedAsKnown()
    {
        await using var host = await StartHostAsync();
        // The signup of late@ lands after the insert's snapshot was taken and before it reaches late@'s row: a
        // trigger does it as the first row goes in, as a concurrent signup that commits at that moment would.
        await host.ExecuteAsync("""
            CREATE FUNCTION test_signup_during_import() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.email = 'first@example.org' THEN
                    INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at)
                    VALUES ('meta-ai-objection', 'late@example.org', 'en', 'facebook', 'pending', 1);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_signup_during_import BEFORE INSERT ON subscribers
                FOR EACH ROW EXECUTE FUNCTION test_signup_during_import();
            """);
        var file = host.WriteFile("subscribers.csv", Header + """
            first@example.org,de,,2024-04-01T10:00:00Z,form
            late@example.org,de,instagram,2024-04-01T10:00:00Z,form
            last@example.org,de,,2024-04-01T10:00:00Z,form
            """);

        var result = await host.RunAsync("import", file);

        Assert.Contains("imported 2, skipped (already known) 1, rejected 0", result.Output);
        var late = Assert.Single(await host.SubscribersAsync(), s => s.Email == "late@example.org");
        Assert.Equal(("pending", "en", "facebook"), (late.Status, late.Locale, late.Platforms));
        Assert.Equal(["first@example.org", "last@example.org"], (await host.ConsentsAsync()).Select(c => c.Email));
    }

    /// <summary>Two known addresses (one unsubscribed), the file imported twice; the summaries and what is stored.</summary>
    private static async Task<Outcome> ImportTwiceAsync(OperatorHost started, string content)
    {
        await using var host = started;
        await host.InsertSubscriberAsync("anna@example.org", status: "unsubscribed");
        await host.InsertSubscriberAsync("bert@example.org", platforms: "facebook");
        var file = host.WriteFile("subscribers.csv", content);
        var first = await host.RunAsync("import", file, "--skip-invalid");
        host.Time.Advance(TimeSpan.FromHours(1));
        var second = await host.RunAsync("import", file, "--skip-invalid");
        return new Outcome(Summary(first.Output), Summary(second.Output), await host.SubscribersAsync(), await host.ConsentsAsync());
    }

    private static string Summary(string output) =>
        output.Split('\n').Where(l => l.StartsWith("line ", StringComparison.Ordinal) || l.StartsWith("imported ", StringComparison.Ordinal))
            .Where(l => !l.Contains(" of ", StringComparison.Ordinal))
            .Aggregate("", (all, l) => all + l + "\n");

    private sealed record Outcome(string First, string Second, List<StoredSubscriber> Subscribers, List<StoredConsent> Consents);
}
