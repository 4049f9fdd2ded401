using Mailer.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Delivery;

public class SmtpTransportTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static SmtpTransport Transport(TestSmtpServer server, Action<SmtpOptions>? configure = null)
    {
        var options = server.SmtpOptions();
        configure?.Invoke(options);
        return new SmtpTransport(Options.Create(options), TimeProvider.System, NullLogger<SmtpTransport>.Instance);
    }

    [Fact]
    public async Task TwoHundredMessages_ArriveWholeOverOneConnection()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var sent = Enumerable.Range(1, 200).Select(n => TestMails.Message(n)).ToList();

        await using (var connection = await Transport(server).OpenAsync(Cancel))
        {
            foreach (var message in sent)
            {
                var result = await connection.SendAsync(message, Cancel);
                Assert.Equal(SendOutcome.Accepted, result.Outcome);
                Assert.StartsWith("250 ", result.Reply);
            }
        }

        await server.WaitForMessagesAsync(200, Wait);
        Assert.Equal(1, server.Connections);
        var received = server.Messages;
        Assert.Single(received.Select(m => m.SessionId).Distinct());
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i].MessageId, received[i].Message.MessageId);
            Assert.Equal($"subscriber{i + 1}@example.net", Assert.Single(received[i].To));
            Assert.Equal("kampagne@example.org", received[i].From);
            Assert.Equal(sent[i].Rendered.Subject, received[i].Message.Subject);
            Assert.Equal(sent[i].ToMimeMessage().TextBody, received[i].Message.TextBody);
            Assert.Equal(sent[i].ToMimeMessage().HtmlBody, received[i].Message.HtmlBody);
        }
    }

    [Fact]
    public async Task ServerAnswering451_IsTransient_WithTheReply_AndTheConnectionCarriesOn()
    {
        await using var server = await TestSmtpServer.StartAsync();
        server.AnswerNext(SmtpAnswer.Reply(451, "4.3.0 Try again later"));
        await using var connection = await Transport(server).OpenAsync(Cancel);

        var deferred = await connection.SendAsync(TestMails.Message(1), Cancel);
        var next = await connection.SendAsync(TestMails.Message(2), Cancel);

        Assert.Equal(SendResult.Transient("451 4.3.0 Try again later"), deferred);
        Assert.True(next.IsAccepted);
        Assert.Equal(1, server.Connections);
        Assert.Equal(TestMails.Message(2).Rendered.Subject, Assert.Single(server.Messages).Message.Subject);
    }

    [Fact]
    public async Task ServerAnswering550_IsPermanent_WithTheReplyText_AndTheConnectionCarriesOn()
    {
        await using var server = await TestSmtpServer.StartAsync();
        server.Answer = mail => mail.To.Contains("subscriber1@example.net")
            ? SmtpAnswer.Reply(550, "5.1.1 User unknown")
            : SmtpAnswer.Accept;
        await using var connection = await Transport(server).OpenAsync(Cancel);

        var refused = await connection.SendAsync(TestMails.Message(1), Cancel);
        var next = await connection.SendAsync(TestMails.Message(2), Cancel);

        Assert.Equal(SendResult.Permanent("550 5.1.1 User unknown"), refused);
        Assert.True(next.IsAccepted);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task RecipientRefusedWith550_IsPermanent_AndTheConnectionCarriesOn()
    {
        await using var server = await TestSmtpServer.StartAsync();
        server.RecipientAnswer = address => address == "subscriber1@example.net" ? SmtpAnswer.Reply(550, "5.1.1 User unknown") : null;
        await using var connection = await Transport(server).OpenAsync(Cancel);

        var refused = await connection.SendAsync(TestMails.Message(1), Cancel);
        var next = await connection.SendAsync(TestMails.Message(2), Cancel);

        Assert.Equal(SendOutcome.Permanent, refused.Outcome);
        Assert.StartsWith("550 5.1.1 User unknown", refused.Reply);
        Assert.True(next.IsAccepted, next.Reply);
        Assert.Equal(1, server.Connections);
        Assert.Equal("subscriber2@example.net", Assert.Single(Assert.Single(server.Messages).To));
    }

    [Fact]
    public async Task ConnectionDroppedDuringData_IsTransient_AndTheNextMessageReconnectsAndIsAccepted()
    {
        await using var server = await TestSmtpServer.StartAsync();
        server.AnswerNext(SmtpAnswer.DropConnection);
        await using var connection = await Transport(server).OpenAsync(Cancel);

        var broken = await connection.SendAsync(TestMails.Message(1), Cancel);
        var next = await connection.SendAsync(TestMails.Message(2), Cancel);

        Assert.Equal(SendOutcome.Transient, broken.Outcome);
        Assert.StartsWith("connection: ", broken.Reply);
        Assert.True(next.IsAccepted, next.Reply);
        Assert.Equal(2, server.Connections);
        Assert.Equal("subscriber2@example.net", Assert.Single(Assert.Single(server.Messages).To));
    }

    [Fact]
    public async Task ServerHungUpWhileIdle_TheNextMessageReconnectsAndIsAccepted()
    {
        var time = new FakeTimeProvider(TestMails.Now);
        await using var server = await TestSmtpServer.StartAsync();
        var transport = new SmtpTransport(Options.Create(server.SmtpOptions()), time, NullLogger<SmtpTransport>.Instance);
        await using var connection = await transport.OpenAsync(Cancel);
        Assert.True((await connection.SendAsync(TestMails.Message(1), Cancel)).IsAccepted);

        server.DropConnections();
        time.Advance(TimeSpan.FromMinutes(1));
        var later = await connection.SendAsync(TestMails.Message(2), Cancel);

        Assert.True(later.IsAccepted, later.Reply);
        Assert.Equal(2, server.Connections);
        Assert.Equal(2, server.Messages.Count);
    }

    [Fact]
    public async Task UnreachableServer_IsTransient_AndOpeningDoesNotFail()
    {
        int port;
        await using (var gone = await TestSmtpServer.StartAsync())
        {
            port = gone.Port;
        }

        var transport = new SmtpTransport(
            Options.Create(new SmtpOptions { Host = "127.0.0.1", Port = port, Security = SmtpSecurity.None, Timeout = TimeSpan.FromSeconds(5) }),
            TimeProvider.System,
            NullLogger<SmtpTransport>.Instance);
        await using var connection = await transport.OpenAsync(Cancel);

        var result = await connection.SendAsync(TestMails.Message(1), Cancel);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.StartsWith("connect: ", result.Reply);
        await Assert.ThrowsAnyAsync<Exception>(() => transport.CheckAsync(Cancel));
    }

    [Fact]
    public async Task CancelledByTheCaller_Throws()
    {
        await using var server = await TestSmtpServer.StartAsync();
        await using var connection = await Transport(server).OpenAsync(Cancel);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.SendAsync(TestMails.Message(1), cancelled.Token));
    }

    [Fact]
    public async Task Check_ConnectsGreetsAndHangsUp()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var transport = Transport(server);

        await transport.CheckAsync(Cancel);

        Assert.Equal(1, server.Connections);
        Assert.Empty(server.Messages);
        Assert.Equal($"smtp 127.0.0.1:{server.Port} (None)", transport.Describe());
    }

    [Fact]
    public void Describe_NeverShowsCredentials()
    {
        var transport = new SmtpTransport(
            Options.Create(new SmtpOptions { Host = "mail.example.org", Port = 587, Security = SmtpSecurity.StartTls, Username = "mailer", Password = "s3cret" }),
            TimeProvider.System,
            NullLogger<SmtpTransport>.Instance);

        Assert.Equal("smtp mail.example.org:587 (StartTls)", transport.Describe());
    }
}
