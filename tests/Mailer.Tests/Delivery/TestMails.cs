using Mailer.Delivery;
using Mailer.Rendering;
using Mailer.Tests.Support;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Mailer.Tests.Delivery;

/// <summary>Hand-made rendered mails and a factory with test options: delivery does not depend on templates.</summary>
internal static class TestMails
{
    public static readonly DateTimeOffset Now = new(2024, 5, 10, 8, 30, 0, TimeSpan.Zero);

    public static MessageFactory Factory(FakeTimeProvider? time = null, Action<Mailer.Hosting.MailerOptions>? mailer = null) =>
        new(Options.Create(TestOptions.Mailer(mailer)), Options.Create(TestOptions.Campaign()), time ?? new FakeTimeProvider(Now));

    public static RenderedMail Rendered(string subject = "Noch 16 Tage: Widersprich Meta-KI-Training") => new(
        subject,
        "<!doctype html><html><body><p>Hallo,</p><p>bis zum 26. Mai kannst du widersprechen: Schritt für Schritt.</p></body></html>",
        "Hallo,\n\nbis zum 26. Mai kannst du widersprechen: Schritt für Schritt.\n.\n.. eine Zeile mit Punkt\n");

    public static MailLinks Links(long subscriberId = 42) => new(
        $"https://kampagne.example.org/confirm/c{subscriberId}",
        $"https://kampagne.example.org/unsubscribe/u{subscriberId}",
        new Dictionary<string, string> { ["facebook"] = $"https://kampagne.example.org/go/g{subscriberId}/facebook" },
        new Dictionary<string, string> { ["facebook"] = $"https://kampagne.example.org/done/d{subscriberId}/facebook" });

    private static readonly MessageFactory Shared = Factory();

    /// <summary>Message number <paramref name="number"/> of a send, to <c>subscriber{number}@example.net</c>.</summary>
    public static ComposedMail Message(int number, string mailing = Mailings.ReminderWeek) =>
        Shared.Create(
            mailing,
            TestOptions.Recipient(number, $"subscriber{number}@example.net"),
            Rendered($"Erinnerung {number}"),
            Links(number));
}
