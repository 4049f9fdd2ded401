using System.Net;
using System.Net.Sockets;
using System.Text;
using Mailer.Delivery;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>
/// Messages carry their text as 8bit where they can; a server that does not offer 8BITMIME must still get them
/// 7-bit clean. The in-process test server always offers it, so this one speaks just enough SMTP over loopback.
/// </summary>
public class SevenBitServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerWithout8BitMime_GetsTheMessageSevenBitClean_WithTheSameText()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var received = ServeOneMessageAsync(listener);
        var message = TestMails.Message(1);
        Assert.Contains(message.BodyParts.OfType<TextPart>(), part => part.ContentTransferEncoding == ContentEncoding.EightBit);
        var options = new SmtpOptions { Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port, Security = SmtpSecurity.None };

        SendResult result;
        await using (var connection = await new SmtpTransport(Options.Create(options), TimeProvider.System, NullLogger<SmtpTransport>.Instance).OpenAsync(Cancel))
        {
            result = await connection.SendAsync(TestMails.Message(1), Cancel);
        }

        var data = await received.WaitAsync(TimeSpan.FromSeconds(20), Cancel);
        Assert.True(result.IsAccepted, result.Reply);
        Assert.DoesNotContain(data, b => b >= 0x80);
        var copy = MimeMessage.Load(new MemoryStream(data), Cancel);
        Assert.Equal(message.TextBody, copy.TextBody);
        Assert.Equal(message.HtmlBody, copy.HtmlBody);
        Assert.Contains("ü", copy.TextBody + copy.HtmlBody, StringComparison.Ordinal);
    }

    /// <summary>EHLO without 8BITMIME, then one message; returns its DATA with the dot-stuffing undone.</summary>
    private static async Task<byte[]> ServeOneMessageAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync(Cancel);
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 seven-bit test server");
        var data = new MemoryStream();
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            var verb = line.Split(' ')[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await writer.WriteLineAsync("250-seven-bit\r\n250 SIZE 10485760");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 go ahead");
                    while (await reader.ReadLineAsync(Cancel) is { } body && body != ".")
                    {
                        var octets = Encoding.Latin1.GetBytes((body.StartsWith('.') ? body[1..] : body) + "\r\n");
                        data.Write(octets);
                    }

                    await writer.WriteLineAsync("250 2.0.0 queued");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return data.ToArray();
                default:
                    await writer.WriteLineAsync("250 ok");
                    break;
            }
        }

        return data.ToArray();
    }
}
