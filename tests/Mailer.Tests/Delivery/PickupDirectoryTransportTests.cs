using Mailer.Delivery;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Mailer.Tests.Delivery;

public class PickupDirectoryTransportTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static PickupDirectoryTransport Transport(string directory) =>
        new(directory, new FakeTimeProvider(TestMails.Now), NullLogger<PickupDirectoryTransport>.Instance);

    [Fact]
    public async Task Send_WritesOneCompleteEmlPerMessage_AndNoTemporaryFiles()
    {
        var directory = Path.Combine(TestPaths.NewTemporaryDirectory("pickup"), "outbox");
        var transport = Transport(directory);
        var sent = Enumerable.Range(1, 3).Select(n => TestMails.Message(n)).ToList();
        Assert.Contains(sent[0].ToMimeMessage().BodyParts.OfType<TextPart>(), part => part.ContentTransferEncoding == ContentEncoding.EightBit);

        var results = new List<SendResult>();
        await using (var connection = await transport.OpenAsync(Cancel))
        {
            foreach (var message in sent)
            {
                results.Add(await connection.SendAsync(message, Cancel));
            }
        }

        var files = Directory.GetFiles(directory).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(3, files.Count);
        Assert.All(files, name => Assert.Matches(@"^20240510T083000000Z-[0-9a-f]{32}\.eml$", name));
        Assert.Equal(files, results.Select(r => r.Reply["pickup: ".Length..]).Order());
        Assert.All(results, r => Assert.True(r.IsAccepted));

        var parsed = files.Select(name => MimeMessage.Load(Path.Combine(directory, name!))).ToDictionary(m => m.MessageId!);
        foreach (var message in sent)
        {
            var copy = parsed[message.MessageId!];
            Assert.Equal(message.Rendered.Subject, copy.Subject);
            Assert.Equal(message.Rendered.Text, copy.TextBody);
            Assert.Equal(message.Rendered.Html, copy.HtmlBody);
        }

        var bytes = await File.ReadAllBytesAsync(Path.Combine(directory, files[0]!), Cancel);
        Assert.Equal(bytes.Count(b => b == '\n'), bytes.Where((b, i) => b == '\n' && i > 0 && bytes[i - 1] == '\r').Count());
        Assert.DoesNotContain(bytes, b => b >= 0x80);   // 7-bit clean, whoever picks it up
    }

    [Fact]
    public async Task FolderThatCannotBeWritten_IsTransient_NotAnException()
    {
        var blocked = Path.Combine(TestPaths.NewTemporaryDirectory("pickup"), "outbox");
        await File.WriteAllTextAsync(blocked, "a file where the folder should be", Cancel);
        var transport = Transport(blocked);

        await using var connection = await transport.OpenAsync(Cancel);
        var result = await connection.SendAsync(TestMails.Message(1), Cancel);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        await Assert.ThrowsAnyAsync<IOException>(() => transport.CheckAsync(Cancel));
    }

    [Fact]
    public async Task Check_CreatesTheFolder_AndLeavesNothingBehind()
    {
        var directory = Path.Combine(TestPaths.NewTemporaryDirectory("pickup"), "outbox");
        var transport = Transport(directory);

        await transport.CheckAsync(Cancel);

        Assert.Empty(Directory.GetFileSystemEntries(directory));
        Assert.Equal($"pickup folder {directory}", transport.Describe());
    }
}
