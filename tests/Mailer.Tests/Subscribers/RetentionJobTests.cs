using Dapper;
using Mailer.Storage;
using Mailer.Subscribers;
using Mailer.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Subscribers;

/// <summary>
/// The deletion of addresses that never confirmed and the stripping of old link events, on SQLite (and on PostgreSQL in <see cref="RetentionJobOnPostgreSqlTests"/>),
/// with the real store writing the rows and a <see cref="FakeTimeProvider"/> moving the clock.
/// </summary>
public class RetentionJobTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ConfirmWithin = TimeSpan.FromDays(7);
    private static readonly TimeSpan Due = ConfirmWithin + TimeSpan.FromDays(1);
    private static readonly TimeSpan KeepLinkEventsFor = TimeSpan.FromDays(90);

    private readonly FakeTimeProvider _time = new(T0);
    private TestStore? _db;

    protected virtual StorageProvider Provider => StorageProvider.Sqlite;

    private TestStore Db => _db!;

    private SubscriberStore Store => new(Db.Database);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _db = await TestStore.CreateAsync(Provider);

    public async ValueTask DisposeAsync()
    {
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }

    [Fact]
    public async Task NeverConfirmed_IsDeletedWithItsConsents_OnlyOnceItsLinkExpiredADayAgo()
    {
        var anna = await SignUpAsync("anna@example.org");
        await SignUpAsync("anna@example.org", after: TimeSpan.FromMinutes(1));

        _time.SetUtcNow(T0 + Due - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await DeleteAsync());
        Assert.Equal(2, await CountAsync("SELECT COUNT(*) FROM consents WHERE subscriber_id = @anna", new { anna }));

        _time.SetUtcNow(T0 + Due + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await DeleteAsync());
        Assert.Null(await Store.FindAsync(anna, Cancel));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM consents WHERE subscriber_id = @anna", new { anna }));
    }

    [Fact]
    public async Task ConfirmedAndUnsubscribedPeople_AndTheirData_AreNotTouched()
    {
        var confirmed = await SignUpAsync("bert@example.org");
        await Store.ConfirmAsync(confirmed, T0.AddDays(1), "192.0.2.9", Cancel);
        await Store.RecordClickAsync(confirmed, "facebook", T0.AddDays(2), LinkClient.Unknown, Cancel);
        var left = await SignUpAsync("carla@example.org");
        await Store.ConfirmAsync(left, T0.AddDays(1), null, Cancel);
        await Store.UnsubscribeAsync(left, T0.AddDays(2), Cancel);
        // Confirmed once, left, signed up again and never confirmed the second time: still someone who confirmed.
        var back = await SignUpAsync("dora@example.org");
        await Store.ConfirmAsync(back, T0.AddDays(1), null, Cancel);
        await Store.UnsubscribeAsync(back, T0.AddDays(2), Cancel);
        await SignUpAsync("dora@example.org", after: TimeSpan.FromDays(3));
        var before = await SnapshotAsync();

        _time.SetUtcNow(T0 + TimeSpan.FromDays(400));
        Assert.Equal(0, await DeleteAsync());

        Assert.Equal(before, await SnapshotAsync());
        Assert.Equal(SubscriberStatus.Pending, (await Store.FindAsync(back, Cancel))!.Status);
    }

    [Fact]
    public async Task ALaterSignupOrALateMail_PostponesTheDeletion_UntilThatLinkExpired()
    {
        var again = await SignUpAsync("erik@example.org");
        await SignUpAsync("erik@example.org", after: TimeSpan.FromDays(5));
        var late = await SignUpAsync("fritz@example.org");
        // The sweep sent its mail six days after the signup: that link holds until a week after the sending.
        var claim = await Store.ClaimConfirmationAsync(late, T0.AddDays(6), TimeSpan.FromMinutes(5), T0.AddDays(6) - ConfirmWithin, Cancel);
        await Store.MarkConfirmationSentAsync(claim!, T0.AddDays(6), Cancel);

        _time.SetUtcNow(T0 + Due + TimeSpan.FromDays(1));
        Assert.Equal(0, await DeleteAsync());

        _time.SetUtcNow(T0 + TimeSpan.FromDays(5) + Due + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await DeleteAsync());
        Assert.Null(await Store.FindAsync(again, Cancel));
        Assert.NotNull(await Store.FindAsync(late, Cancel));

        _time.SetUtcNow(T0 + TimeSpan.FromDays(6) + Due + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await DeleteAsync());
        Assert.Null(await Store.FindAsync(late, Cancel));
    }

    [Fact]
    public async Task RunTwice_TheSecondRunFindsNothing_AndBatchesCoverMoreThanOneStatement()
    {
        var count = RetentionJob.BatchSize * 2 + 7;
        await using (var connection = await Db.Database.OpenAsync(Cancel))
        {
            await connection.ExecuteAsync(
                """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @Count)
                INSERT INTO subscribers (campaign, email, locale, platforms, status, created_at, confirm_requested_at)
                SELECT 'meta-ai-objection', 'pending' || i || '@example.net', 'de', 'facebook', 'pending', @At, @At FROM n
                """,
                new { Count = count, At = T0.ToUnixTimeMilliseconds() });
        }

        var kept = await SignUpAsync("greta@example.org");
        await Store.ConfirmAsync(kept, T0.AddHours(1), null, Cancel);
        _time.SetUtcNow(T0 + Due + TimeSpan.FromHours(1));

        var runs = await Task.WhenAll(RunAsync(), RunAsync());
        Assert.Equal(count, runs.Sum(r => r.NeverConfirmedDeleted));
        Assert.Equal(0, await DeleteAsync());
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM subscribers"));
        Assert.NotNull(await Store.FindAsync(kept, Cancel));
    }

    [Fact]
    public async Task LinkEventsOlderThanKeepLinkEventsFor_LoseTheClientsAddressAndUserAgent_AndStay()
    {
        var anna = await SignUpAsync("anna@example.org");
        await Store.ConfirmAsync(anna, T0.AddHours(1), "192.0.2.1", Cancel);
        var phone = new LinkClient("198.51.100.23", "Mozilla/5.0 (Android 14)");
        await Store.RecordClickAsync(anna, "facebook", T0.AddDays(1), phone, Cancel);
        await Store.MarkDoneAsync(anna, "facebook", T0.AddDays(2), phone, Cancel);
        await Store.RecordClickAsync(anna, "instagram", T0.AddDays(30), phone, Cancel);
        var consentsBefore = await SnapshotAsync("consents");

        _time.SetUtcNow(T0.AddDays(1) + KeepLinkEventsFor - TimeSpan.FromMinutes(1));
        Assert.Equal(0, (await RunAsync()).LinkEventsStripped);
        _time.SetUtcNow(T0.AddDays(2) + KeepLinkEventsFor + TimeSpan.FromMinutes(1));
        var runs = await Task.WhenAll(RunAsync(), RunAsync());
        Assert.Equal(2, runs.Sum(r => r.LinkEventsStripped));
        Assert.Equal(0, (await RunAsync()).LinkEventsStripped);

        await using var connection = await Db.Database.OpenAsync(Cancel);
        var events = (await connection.QueryAsync<(string Kind, string Platform, long At, string? ClientIp, string? UserAgent)>(
            "SELECT kind, platform, at, client_ip, user_agent FROM link_events WHERE subscriber_id = @anna ORDER BY id", new { anna })).ToList();
        Assert.Equal(
            [
                ("click", "facebook", T0.AddDays(1).ToUnixTimeMilliseconds(), null, null),
                ("done", "facebook", T0.AddDays(2).ToUnixTimeMilliseconds(), null, null),
                ("click", "instagram", T0.AddDays(30).ToUnixTimeMilliseconds(), "198.51.100.23", "Mozilla/5.0 (Android 14)"),
            ],
            events);
        Assert.Equal(consentsBefore, await SnapshotAsync("consents"));
        Assert.Equal(["facebook"], (await Store.FindAsync(anna, Cancel))!.DonePlatforms);
    }

    private Task<RetentionRun> RunAsync() =>
        new RetentionJob(Db.Database, Options.Create(new SubscribersOptions { ConfirmWithin = ConfirmWithin, KeepLinkEventsFor = KeepLinkEventsFor }),
            _time, NullLogger<RetentionJob>.Instance).RunAsync(Cancel);

    private async Task<int> DeleteAsync() => (await RunAsync()).NeverConfirmedDeleted;

    private async Task<long> SignUpAsync(string email, TimeSpan after = default)
    {
        var signup = new Signup(email, "de", ["facebook"], ConsentSource.Form, "2024-05", "192.0.2.1", "Phone");
        return (await Store.SignUpAsync(signup, T0 + after, TimeSpan.FromMinutes(10), Cancel)).SubscriberId;
    }

    private async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = await Db.Database.OpenAsync(Cancel);
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    /// <summary>Every row of the tables (default: subscribers, consents and link events), as text.</summary>
    private async Task<string> SnapshotAsync(params string[] tables)
    {
        await using var connection = await Db.Database.OpenAsync(Cancel);
        var rows = new List<string>();
        foreach (var table in tables.Length > 0 ? tables : ["subscribers", "consents", "link_events"])
        {
            var all = await connection.QueryAsync($"SELECT * FROM {table} ORDER BY id");
            rows.AddRange(all.Select(r => table + ": " + string.Join(",", ((IDictionary<string, object?>)r).Select(p => $"{p.Key}={p.Value}"))));
        }

        return string.Join("\n", rows);
    }
}

/// <summary><see cref="RetentionJobTests"/> on a fresh PostgreSQL database.</summary>
public sealed class RetentionJobOnPostgreSqlTests : RetentionJobTests
{
    protected override StorageProvider Provider => StorageProvider.PostgreSql;
}
