using Dapper;
using Mailer.Bounces;
using Mailer.Storage;
using Mailer.Tests.Support;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Mailer.Tests.Bounces;

/// <summary>The bounce mailbox job against a real Dovecot: each report recorded once, every message kept, twice is once.</summary>
public sealed class BounceMailboxJobTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(null)]
    [InlineData("Processed")]
    public async Task MailboxJob_RecordsEachReportOnce_KeepsEveryMessage_AndRunsTwiceAsOnce(string? processedFolder)
    {
        await using var mail = await RealMailServers.StartAsync();
        await using var app = new MailerAppFactory();
        foreach (var (key, value) in mail.MailerSettings(processedFolder))
        {
            app.Settings[key] = value;
        }

        var database = app.Services.GetRequiredService<Database>();
        var tags = app.Services.GetRequiredService<ReturnPath>();
        var (dead, deadRow) = await SubscriberWithRowAsync(database, "dead@example.net");
        var (annoyed, annoyedRow) = await SubscriberWithRowAsync(database, "annoyed@example.net");
        var (away, awayRow) = await SubscriberWithRowAsync(database, "away@example.net");
        MimeMessage Sample(string name, long row) => BounceSamples.Load(name, tagAddress: tags.ForDelivery(row));
        await AppendAsync(mail,
            Sample("postfix-3.7-virtual-unknown-user.mime", deadRow),
            Sample("postfix-3.7-virtual-unknown-user.mime", deadRow),   // the same report delivered twice
            Sample("arf-abuse.mime", annoyedRow),
            Sample("out-of-office.mime", awayRow),
            Sample("human-reply.mime", awayRow));

        var job = app.Services.GetRequiredService<BounceMailboxJob>();
        await job.RunAsync(Cancel);
        var afterFirst = await EventsAsync(database);
        await job.RunAsync(Cancel);

        Assert.Equal(["complaint", "hard", "autoreply"], afterFirst.Select(e => e.Kind));
        Assert.Equal(afterFirst, await EventsAsync(database));
        Assert.Equal([annoyed, dead, away], afterFirst.Select(e => e.SubscriberId));
        Assert.NotNull(await database.ScalarAsync<long?>("SELECT suppressed_at FROM subscribers WHERE id = @Id", new { Id = dead }));
        Assert.Equal("unsubscribed", await database.ScalarAsync<string>("SELECT status FROM subscribers WHERE id = @Id", new { Id = annoyed }));
        Assert.Equal("confirmed", await database.ScalarAsync<string>("SELECT status FROM subscribers WHERE id = @Id", new { Id = away }));
        Assert.Null(await database.ScalarAsync<long?>("SELECT suppressed_at FROM subscribers WHERE id = @Id", new { Id = away }));

        var (inbox, processed, marked) = await MailboxStateAsync(mail, processedFolder);
        if (processedFolder is null)
        {
            Assert.Equal((5, 5), (inbox, marked));   // all kept where they were, each marked processed
        }
        else
        {
            Assert.Equal((0, 5), (inbox, processed));   // all moved, none deleted
        }
    }

    [Fact]
    public async Task MailboxJob_WithAWrongPassword_LogsAndChangesNothing()
    {
        await using var mail = await RealMailServers.StartAsync();
        await using var app = new MailerAppFactory();
        foreach (var (key, value) in mail.MailerSettings())
        {
            app.Settings[key] = value;
        }

        app.Settings["Bounces:Imap:Password"] = "wrong";
        await AppendAsync(mail, BounceSamples.Load("postfix-unknown-user.mime"));

        await app.Services.GetRequiredService<BounceMailboxJob>().RunAsync(Cancel);

        Assert.Equal((1, 0, 0), await MailboxStateAsync(mail, null));
    }

    private static async Task<(long Subscriber, long Row)> SubscriberWithRowAsync(Database database, string email)
    {
        await using var connection = await database.OpenAsync(Cancel);
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO subscribers (campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at)
            VALUES ('meta-ai-objection', @Email, 'de', 'facebook', '', 'confirmed', @At, @At) RETURNING id
            """, new { Email = email, At = at });
        var row = await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at)
            VALUES (@Id, 'meta-ai-objection', 'announcement', 'sent', 1, @At, @At, @At, @At) RETURNING id
            """, new { Id = id, At = at });
        return (id, row);
    }

    private static async Task<List<(long SubscriberId, string Kind)>> EventsAsync(Database database)
    {
        await using var connection = await database.OpenAsync(Cancel);
        return [.. await connection.QueryAsync<(long, string)>("SELECT subscriber_id, kind FROM bounce_events ORDER BY CASE kind WHEN 'complaint' THEN 0 WHEN 'hard' THEN 1 ELSE 2 END")];
    }

    private static async Task<ImapClient> LoginAsync(RealMailServers mail)
    {
        var client = new ImapClient();
        await client.ConnectAsync("127.0.0.1", mail.ImapPort, MailKit.Security.SecureSocketOptions.None, Cancel);
        await client.AuthenticateAsync(RealMailServers.BounceUser, RealMailServers.BouncePassword, Cancel);
        return client;
    }

    private static async Task AppendAsync(RealMailServers mail, params MimeMessage[] messages)
    {
        using var client = await LoginAsync(mail);
        foreach (var message in messages)
        {
            await client.Inbox.AppendAsync(message, MessageFlags.None, Cancel);
        }

        await client.DisconnectAsync(true, Cancel);
    }

    /// <summary>Messages in INBOX, in the processed folder, and in INBOX with the processed keyword.</summary>
    private static async Task<(int Inbox, int Processed, int Marked)> MailboxStateAsync(RealMailServers mail, string? processedFolder)
    {
        using var client = await LoginAsync(mail);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, Cancel);
        var inbox = client.Inbox.Count;
        var marked = (await client.Inbox.SearchAsync(SearchQuery.HasKeyword(BounceMailboxJob.ProcessedKeyword).And(SearchQuery.Seen), Cancel)).Count;
        var processed = 0;
        if (processedFolder is not null)
        {
            var folder = await client.GetFolderAsync(processedFolder, Cancel);
            await folder.OpenAsync(FolderAccess.ReadOnly, Cancel);
            processed = folder.Count;
        }

        await client.DisconnectAsync(true, Cancel);
        return (inbox, processed, marked);
    }
}

internal static class DatabaseQueries
{
    public static async Task<T?> ScalarAsync<T>(this Database database, string sql, object? parameters = null)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<T>(sql, parameters);
    }
}
