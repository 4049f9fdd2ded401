using Mailer.Campaigns;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.OperatorData;
using Mailer.Tests.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Signups;

/// <summary>
/// One mailbox, several spellings (upper and lower case, an IDN domain in Unicode or punycode): signup, import, erase,
/// timeline and export treat them as one person, on SQLite and PostgreSQL.
/// </summary>
public sealed class AddressSpellingTests
{
    private const string Header = "email,locale,platforms,consent_at,consent_source\n";

    public static TheoryData<StorageProvider> Providers => TestStore.Providers;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Import_ThePunycodeSpellingOfASignedUpAddress_IsTheSamePerson(StorageProvider provider)
    {
        await using var host = await StartAsync(provider);
        await SignUpAsync(host, "anna@müller.de");
        var file = host.WriteFile("in.csv", Header + """
            anna@xn--mller-kva.de,de,,2024-04-01T10:00:00Z,newsletter
            ANNA@XN--MLLER-KVA.DE,de,,2024-04-01T10:00:00Z,newsletter
            Anna@Müller.DE,de,,2024-04-01T10:00:00Z,newsletter
            """);

        var result = await host.RunAsync("import", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("imported 0, skipped (already known) 3, rejected 0", result.Output);
        Assert.Equal(["anna@müller.de"], (await host.SubscribersAsync()).Select(s => s.Email));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task SignupAndImport_InOtherCase_AreTheSamePerson(StorageProvider provider)
    {
        await using var host = await StartAsync(provider);
        var first = await SignUpAsync(host, "Anna.Schmidt@Example.org");
        var second = await SignUpAsync(host, "anna.schmidt@example.ORG");
        var file = host.WriteFile("in.csv", Header + "ANNA.SCHMIDT@EXAMPLE.ORG,de,,2024-04-01T10:00:00Z,newsletter\n");

        var result = await host.RunAsync("import", file);

        Assert.Equal(SignupOutcome.Created, first.Outcome);
        Assert.Equal(first.SubscriberId, second.SubscriberId);
        Assert.Contains("imported 0, skipped (already known) 1, rejected 0", result.Output);
        Assert.Equal(["anna.schmidt@example.org"], (await host.SubscribersAsync()).Select(s => s.Email));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Erase_FindsTheAddressHoweverItIsCasedOrSpelled(StorageProvider provider)
    {
        string[] spellings = ["ANNA@MÜLLER.DE", "anna@xn--mller-kva.de", " Anna@XN--Mller-Kva.de ", "anna@müller.de"];
        await using var host = await StartAsync(provider);
        foreach (var spelling in spellings)
        {
            var id = await SignUpAsync(host, "Anna@Müller.de");
            await EraseCommandTests.RecordEverythingAsync(host, "bert@müller.de");

            var result = await host.RunAsync("erase", spelling);

            Assert.StartsWith("erased", result.Output);
            Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM subscribers WHERE id = @id", new { id = id.SubscriberId }));
            Assert.Equal(0, await host.CountAsync("SELECT COUNT(*) FROM consents WHERE subscriber_id = @id", new { id = id.SubscriberId }));
            await host.ExecuteAsync("DELETE FROM deliveries; DELETE FROM link_events; DELETE FROM consents; DELETE FROM subscribers");
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Timeline_FindsTheAddressHoweverItIsCased(StorageProvider provider)
    {
        await using var host = await StartAsync(provider);
        await SignUpAsync(host, "scan@example.org");
        var timeline = Timeline(host);

        var upper = await host.RunAsync(timeline, "--email", "SCAN@Example.ORG");
        var mixed = await host.RunAsync(timeline, "--email", " Scan@EXAMPLE.org ");
        var stranger = await host.RunAsync(timeline, "--email", "nobody@example.org");

        Assert.Equal(0, upper.ExitCode);
        Assert.Contains("subscriber #", upper.Output, StringComparison.Ordinal);
        Assert.Equal(0, mixed.ExitCode);
        Assert.Equal(1, stranger.ExitCode);
        Assert.Contains("No subscriber with that address.", stranger.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Export_WritesEveryAddressInTheOneNormalizedForm(StorageProvider provider)
    {
        await using var host = await StartAsync(provider);
        await SignUpAsync(host, "Anna@MÜLLER.de");
        host.WriteFile("in.csv", Header + "BERT@XN--MLLER-KVA.DE,de,,2024-04-01T10:00:00Z,newsletter\nCarla@Example.ORG,de,,2024-04-01T10:00:00Z,newsletter\n");
        await host.RunAsync("import", host.Path("in.csv"));

        var export = await host.RunAsync("export", host.Path("out.csv"));

        Assert.Equal(0, export.ExitCode);
        var emails = File.ReadAllLines(host.Path("out.csv")).Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(["anna@müller.de", "bert@müller.de", "carla@example.org"], emails);
        Assert.All(emails, e => Assert.Equal(e, EmailAddress.Normalize(e, out var again) == EmailProblem.None ? again : null));
    }

    private static Task<OperatorHost> StartAsync(StorageProvider provider) =>
        provider == StorageProvider.PostgreSql ? OperatorHost.StartPostgreSqlAsync("spelling-pg") : OperatorHost.StartAsync("spelling");

    /// <summary>A signup as <c>POST /subscribe</c> makes it: the fields checked as the API checks them, stored by the store.</summary>
    private static async Task<SignupResult> SignUpAsync(OperatorHost host, string typed)
    {
        var fields = SignupFields.Check(typed, ["facebook"], "de", "de", ["facebook", "instagram"]);
        Assert.True(fields.IsValid, string.Join(", ", fields.Errors));
        var signup = new Signup(fields.Email, fields.Locale, fields.Platforms, ConsentSource.Form, "v1", null, null);
        return await new SubscriberStore(host.Database).SignUpAsync(signup, OperatorHost.Now, TimeSpan.FromMinutes(10), Cancel);
    }

    private static TimelineCommand Timeline(OperatorHost host)
    {
        var options = Options.Create(new CampaignOptions());
        options.Value.Platforms["facebook"] = new PlatformOptions { FormUrl = "https://www.facebook.com/help/contact/712876720715583" };
        var ledger = new DeliveryLedger(host.Database);
        var catalog = CampaignCatalog.Of(options.Value);
        return new TimelineCommand(new SubscriberTimeline(new CampaignClock(catalog, ledger, host.Time), ledger, new Mailer.Bounces.BounceStore(host.Database)), catalog, host.Time);
    }
}
