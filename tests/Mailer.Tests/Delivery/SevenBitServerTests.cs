using Mailer.Delivery;
using Mailer.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>Messages carry their text as 8bit where they can; a server that does not offer 8BITMIME must still get them 7-bit clean.</summary>
public class SevenBitServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerWithout8BitMime_GetsTheMessageSevenBitClean_WithTheSameText()
    {
        await using var server = new SevenBitSmtpServer();
        var message = TestMails.Message(1);
        Assert.Contains(message.ToMimeMessage().BodyParts.OfType<TextPart>(), part => part.ContentTransferEncoding == ContentEncoding.EightBit);

        SendResult result;
        await using (var connection = await new SmtpTransport(Options.Create(server.SmtpOptions()), TimeProvider.System, NullLogger<SmtpTransport>.Instance).OpenAsync(Cancel))
        {
            result = await connection.SendAsync(TestMails.Message(1), Cancel);
        }

        await server.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
        var data = Assert.Single(server.Messages);
        Assert.True(result.IsAccepted, result.Reply);
        Assert.DoesNotContain(data, b => b >= 0x80);
        var copy = MimeMessage.Load(new MemoryStream(data), Cancel);
        Assert.Equal(message.Rendered.Text, copy.TextBody);
        Assert.Equal(message.Rendered.Html, copy.HtmlBody);
        Assert.Contains("ü", copy.TextBody + copy.HtmlBody, StringComparison.Ordinal);
    }
}
