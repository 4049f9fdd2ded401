using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Mailer.Tests.Delivery;

/// <summary>
/// Every mailing, in both languages, from the real templates through the configured transport, as the receiving side
/// got it: the in-process SMTP server (8BITMIME), a server without 8BITMIME, and the pickup folder. dkimpy must find
/// both signatures valid on each, with and without a tagged envelope sender.
/// </summary>
public class DkimMailingsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryMailing_AsTheSmtpServerReceivedIt_Verifies()
    {
        await using var server = await TestSmtpServer.StartAsync();
        var count = await SendEveryMailingAsync(new() { ["Smtp:Host"] = server.Host, ["Smtp:Port"] = server.Port.ToString(), ["Smtp:Security"] = "None" });
        await server.WaitForMessagesAsync(count, Wait);

        var raw = server.Messages.Select(m => m.Raw).ToList();
        await AssertAllVerifyAsync(raw);
        Assert.Contains(raw, message => message.Any(b => b >= 0x80));
    }

    [Fact]
    public async Task EveryMailing_ThroughAServerWithout8BitMime_IsSevenBitClean_AndVerifies()
    {
        await using var server = new SevenBitSmtpServer();
        var count = await SendEveryMailingAsync(new() { ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = server.Port.ToString(), ["Smtp:Security"] = "None" });
        await server.WaitForMessagesAsync(count, Wait);

        var raw = server.Messages.ToList();
        Assert.All(raw, message => Assert.DoesNotContain(message, b => b >= 0x80));
        await AssertAllVerifyAsync(raw);
    }

    [Fact]
    public async Task EveryMailing_FromThePickupFolder_Verifies()
    {
        var outbox = TestPaths.NewTemporaryDirectory("dkim-outbox");
        var count = await SendEveryMailingAsync(new() { ["Smtp:Host"] = "", ["Smtp:PickupDirectory"] = outbox });

        var raw = Directory.GetFiles(outbox, "*.eml").Select(File.ReadAllBytes).ToList();
        Assert.Equal(count, raw.Count);
        await AssertAllVerifyAsync(raw);
    }

    /// <summary>Composes and sends confirm, announcement and both reminders in de and en with the app's own services.</summary>
    private static async Task<int> SendEveryMailingAsync(Dictionary<string, string?> settings)
    {
        await DkimVerifier.RequireAsync();
        await using var app = new MailerAppFactory();
        foreach (var (key, value) in TestDkimKeys.Settings().Concat(settings))
        {
            app.Settings[key] = value;
        }

        var composer = app.Services.GetRequiredService<MailComposer>();
        var transport = app.Services.GetRequiredService<IMailTransport>();
        var sent = 0;
        await using var connection = await transport.OpenAsync(Cancel);
        foreach (var mailing in Mailings.All)
        {
            foreach (var locale in Mailings.Locales)
            {
                var recipient = TestOptions.Recipient(++sent, $"person{sent}@example.net", locale);
                var message = composer.Compose(mailing, recipient, new DateTimeOffset(2024, 5, 19, 7, 0, 0, TimeSpan.Zero));
                // Every other one with a tagged envelope sender (VERP), as with Bounces:ReturnPath: the pickup folder adds Return-Path.
                var envelopeSender = sent % 2 == 0 ? $"bounces+d{sent}-abcdefghij@example.org" : null;
                var result = await connection.SendAsync(message, envelopeSender, Cancel);
                Assert.True(result.IsAccepted, $"{mailing} {locale}: {result.Reply}");
            }
        }

        return sent;
    }

    private static async Task AssertAllVerifyAsync(IReadOnlyList<byte[]> messages)
    {
        Assert.Equal(Mailings.All.Count * Mailings.Locales.Count, messages.Count);
        var verdicts = await DkimVerifier.VerifyAsync(TestDkimKeys.Records, messages);
        foreach (var verdict in verdicts)
        {
            Assert.Equal(["ed25519-sha256", "rsa-sha256"], verdict.Select(v => v.Algorithm).Order());
            Assert.All(verdict, v => Assert.True(v.Valid, $"{v.Algorithm}: {v.Log}"));
        }
    }
}
