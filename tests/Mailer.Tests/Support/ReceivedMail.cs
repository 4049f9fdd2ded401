using MimeKit;

namespace Mailer.Tests.Support;

/// <summary>One message as the test server received it.</summary>
/// <param name="SessionId">The connection it came over: messages with the same id shared a connection.</param>
/// <param name="From">The envelope sender (MAIL FROM).</param>
/// <param name="To">The envelope recipients (RCPT TO).</param>
/// <param name="Message">The message, parsed with MimeKit.</param>
/// <param name="Raw">The bytes as received after DATA.</param>
public sealed record ReceivedMail(Guid SessionId, string From, IReadOnlyList<string> To, MimeMessage Message, byte[] Raw)
{
    /// <summary>The name the client gave in EHLO (<c>Smtp:HeloName</c>): tells apart the instances that share a server.</summary>
    public string? HeloName { get; init; }
}

/// <summary>What the test server answers to a message.</summary>
public sealed record SmtpAnswer
{
    private SmtpAnswer(int code, string text, bool dropsConnection) => (Code, Text, DropsConnection) = (code, text, dropsConnection);

    /// <summary><c>250 2.0.0 Ok: queued</c>.</summary>
    public static SmtpAnswer Accept { get; } = new(250, "2.0.0 Ok: queued", false);

    /// <summary>Closes the connection without an answer: after the message's data, or (from <c>RecipientAnswer</c>) at <c>RCPT TO</c>.</summary>
    public static SmtpAnswer DropConnection { get; } = new(0, "", true);

    public int Code { get; }

    public string Text { get; }

    public bool DropsConnection { get; }

    /// <summary>Any reply, e.g. <c>Reply(451, "4.3.0 Try again later")</c> or <c>Reply(550, "5.1.1 User unknown")</c>.</summary>
    public static SmtpAnswer Reply(int code, string text) => new(code, text, false);
}
