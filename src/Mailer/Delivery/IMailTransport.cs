namespace Mailer.Delivery;

/// <summary>Where messages go: an SMTP server or the pickup folder.</summary>
public interface IMailTransport
{
    /// <summary>
    /// Opens one connection; it carries many messages, one at a time, and is never shared between threads.
    /// Opening does not fail for an unreachable server: the SMTP connection connects on its first message, and a
    /// server that cannot be reached shows as a transient result of that message.
    /// </summary>
    Task<IMailConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A short description for logs and <c>/healthz</c>, without credentials.</summary>
    string Describe();

    /// <summary>
    /// Checks quickly that messages could go out now (connects and greets the server, or writes to the folder);
    /// throws with the reason when not. Used by the <c>transport</c> health check.
    /// </summary>
    Task CheckAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public interface IMailConnection : IAsyncDisposable
{
    /// <summary>
    /// Sends one message. Never throws for what the server answers or for a broken connection: the result says
    /// whether the message was accepted, failed for good (5xx) or may be tried again (4xx, I/O, timeouts).
    /// Throws <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> is cancelled.
    /// The connection stays usable after every result: when a failure broke it, the next call connects again
    /// by itself, so a caller keeps one connection for a whole batch.
    /// </summary>
    Task<SendResult> SendAsync(ComposedMail message, CancellationToken cancellationToken) =>
        SendAsync(message, envelopeSender: null, cancellationToken);

    /// <summary>
    /// Sends one message with <paramref name="envelopeSender"/> as MAIL FROM (the address bounces go to, see
    /// <c>Bounces:ReturnPath</c>); null: the sender of the message (From), as MailKit chooses it. The pickup folder
    /// writes it as the file's <c>Return-Path</c>. Otherwise as <see cref="SendAsync(ComposedMail, CancellationToken)"/>.
    /// </summary>
    Task<SendResult> SendAsync(ComposedMail message, string? envelopeSender, CancellationToken cancellationToken);
}

public enum SendOutcome
{
    Accepted,
    Transient,
    Permanent,
}

/// <summary>What became of one message, with the server's reply (or the error) for the ledger.</summary>
/// <param name="Reply">The server's answer with its code (<c>250 2.0.0 Ok: queued</c>, <c>550 5.1.1 User unknown</c>), or the error.</param>
public sealed record SendResult(SendOutcome Outcome, string Reply)
{
    public bool IsAccepted => Outcome == SendOutcome.Accepted;

    public static SendResult Accepted(string reply) => new(SendOutcome.Accepted, reply);

    public static SendResult Transient(string reply) => new(SendOutcome.Transient, reply);

    public static SendResult Permanent(string reply) => new(SendOutcome.Permanent, reply);
}
