using System.Net;
using System.Net.Http.Json;
using Dapper;
using Mailer.Cli;
using Mailer.Storage;
using Mailer.Tests.Campaigns;
using Mailer.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Mailer.Tests.Storage;

public class BackupCommandTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Backup_WhileTheServiceWritesSignups_IsAConsistentCopy_ThatTheProgramOpensAsItsStore()
    {
        await using var service = new MailerAppFactory();
        service.Settings["Subscribers:SignupsPerClient"] = "100000";
        using var client = service.CreateClient();
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var answer = await client.PostAsJsonAsync("/subscribe", new { email = $"w{w}n{n}@example.org", platforms = new[] { "facebook" } }, Cancel);
                Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
                Interlocked.Increment(ref accepted);
            }
        })).ToList();
        await Eventually.MeetsAsync(() => Task.FromResult(Volatile.Read(ref accepted) >= 200), TimeSpan.FromMinutes(1), "signups under way");

        var backupFolder = TestPaths.NewTemporaryDirectory("backup");
        var copy = Path.Combine(backupFolder, "mailer-backup.db");
        var before = Volatile.Read(ref accepted);
        var backup = await RunProgramAsync("backup", copy, $"--Mailer:DataDirectory={service.DataDirectory}");
        var after = Volatile.Read(ref accepted);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.True(backup.ExitCode == 0, backup.Output);
        Assert.True(after > before, "signups were written while the backup ran");
        Assert.Equal([Path.GetFileName(copy)], Directory.GetFiles(backupFolder).Select(Path.GetFileName));
        long subscribers;
        await using (var connection = new SqliteConnection($"Data Source={copy};Mode=ReadOnly;Pooling=False"))
        {
            Assert.Equal("ok", await connection.ExecuteScalarAsync<string>("PRAGMA integrity_check"));
            subscribers = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscribers");
            // A signup writes its subscriber and its consent in one transaction: the copy never holds half of one.
            Assert.Equal(subscribers, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT subscriber_id) FROM consents"));
            Assert.Equal(subscribers, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM consents"));
        }

        Assert.Contains($"backed up {subscribers} subscribers to {copy}", backup.Output);
        Assert.InRange(subscribers, before, after);

        // Restore: the copy becomes the store of a fresh data folder, and the program works on it.
        var restored = TestPaths.NewTemporaryDirectory("restored");
        File.Copy(copy, Path.Combine(restored, "mailer.db"));
        var export = Path.Combine(restored, "export.csv");
        var exported = await RunProgramAsync("export", export, $"--Mailer:DataDirectory={restored}");
        Assert.True(exported.ExitCode == 0, exported.Output);
        Assert.Equal(subscribers + 1, File.ReadAllLines(export).Length);
        Assert.Contains("w0n0@example.org", File.ReadAllText(export));
    }

    [Fact]
    public async Task Backup_ToAnExistingFile_IsRefused_AndTheFileIsLeftAsItWas()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.Sqlite);
        var existing = Path.Combine(store.Folder, "yesterday.db");
        await File.WriteAllTextAsync(existing, "yesterday's backup", Cancel);
        var output = new StringWriter();

        var exitCode = await new BackupCommand(store.Database).RunAsync(CommandArguments.Parse([existing]), output, Cancel);

        Assert.Equal(1, exitCode);
        Assert.Contains("exists; backup never overwrites", output.ToString());
        Assert.Equal("yesterday's backup", await File.ReadAllTextAsync(existing, Cancel));
    }

    [Fact]
    public async Task Backup_OnPostgreSql_IsRefused_NamingPgDump()
    {
        await using var store = await TestStore.CreateAsync(StorageProvider.PostgreSql);
        var file = Path.Combine(TestPaths.NewTemporaryDirectory("backup"), "mailer.db");
        var output = new StringWriter();

        var exitCode = await new BackupCommand(store.Database).RunAsync(CommandArguments.Parse([file]), output, Cancel);

        Assert.Equal(1, exitCode);
        Assert.Contains("pg_dump -Fc", output.ToString());
        Assert.False(File.Exists(file));
    }

    private static Task<(int ExitCode, string Output)> RunProgramAsync(params string[] arguments) =>
        MailerProgram.RunAsync([.. arguments, $"--Mailer:SigningKey={MailerAppFactory.TestSigningKey}"]);
}
