using MimeKit;

namespace Mailer.Delivery;

/// <summary>Where messages go: an SMTP server or the pickup folder.</summary>
public interface IMailTransport
{
    /// <summary>Opens one connection; it carries many messages, one at a time, and is never shared between threads.</summary>
    Task<IMailConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A short description for logs and <c>/healthz</c>, without credentials.</summary>
    string Describe();
}

public interface IMailConnection : IAsyncDisposable
{
    /// <summary>
    /// Sends one message. Never throws for what the server answers or for a broken connection: the result says
    /// whether the message was accepted, failed for good (5xx) or may be tried again (4xx, I/O).
    /// After a transient result the connection is no longer usable; open a new one.
    /// </summary>
    Task<SendResult> SendAsync(MimeMessage message, CancellationToken cancellationToken);
}

public enum SendOutcome
{
    Accepted,
    Transient,
    Permanent,
}

/// <summary>What became of one message, with the server's reply (or the error) for the ledger.</summary>
public sealed record SendResult(SendOutcome Outcome, string Reply)
{
    public bool IsAccepted => Outcome == SendOutcome.Accepted;

    public static SendResult Accepted(string reply) => new(SendOutcome.Accepted, reply);

    public static SendResult Transient(string reply) => new(SendOutcome.Transient, reply);

    public static SendResult Permanent(string reply) => new(SendOutcome.Permanent, reply);
}
