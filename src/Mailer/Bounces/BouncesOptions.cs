using System.ComponentModel.DataAnnotations;
using Mailer.Delivery;

namespace Mailer.Bounces;

/// <summary>
/// The <c>Bounces</c> section: the envelope sender that names each message's recipient (VERP), what counts as a dead
/// address, and the mailbox the reports arrive in. Without <see cref="ReturnPath"/> the envelope sender is
/// <c>Mailer:From</c> as before and nothing here runs.
/// </summary>
public sealed class BouncesOptions
{
    public const string Section = "Bounces";

    /// <summary>
    /// The address bounces go to, e.g. <c>bounces@example.org</c>; each message's envelope sender becomes
    /// <c>bounces+&lt;tag&gt;@example.org</c>, the tag naming the ledger row or the confirmation. Its domain must share
    /// the organisational domain of <c>Mailer:From</c> (SPF alignment for DMARC). Default empty: no tags, envelope sender From.
    /// </summary>
    public string? ReturnPath { get; set; }

    /// <summary>Soft bounces (mailbox full, delayed, temporary errors) of this many messages in a row stop mail to the address. Default 3.</summary>
    [Range(1, 100, ErrorMessage = "Bounces:SoftLimit must be 1-100.")]
    public int SoftLimit { get; set; } = 3;

    /// <summary>
    /// The circuit breaker: a mailing pauses itself when more than this share of its messages tried bounced hard
    /// (0.10 = 10 %). Default 0.10; 0 turns it off.
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = "Bounces:PauseAbove must be 0 (off) to 1, e.g. 0.10 for 10 %.")]
    public double PauseAbove { get; set; } = 0.10;

    /// <summary>Messages a mailing must have tried (since start, or since its last resume) before the breaker judges it. Default 500.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Bounces:PauseAfter must be 1-1000000.")]
    public int PauseAfter { get; set; } = 500;

    /// <summary>How often the bounce mailbox is read: whole minutes dividing an hour, or seconds dividing a minute. Default 00:01:00.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The IMAP mailbox the reports for <see cref="ReturnPath"/> are delivered to. Default: none (no mailbox job).</summary>
    public BounceMailboxOptions Imap { get; set; } = new();

    /// <summary>The webhook for relays that report bounces themselves (<c>POST /webhooks/bounces/{provider}</c>).</summary>
    public BounceWebhookOptions Webhook { get; set; } = new();

    /// <summary>Hangfire's cron for <see cref="PollInterval"/>.</summary>
    public string PollCron => PollInterval < TimeSpan.FromMinutes(1)
        ? $"*/{(int)PollInterval.TotalSeconds} * * * * *"
        : $"*/{(int)PollInterval.TotalMinutes} * * * *";

    internal bool PollIntervalIsWholeDivisor =>
        PollInterval < TimeSpan.FromMinutes(1)
            ? PollInterval.Ticks % TimeSpan.TicksPerSecond == 0 && PollInterval.TotalSeconds >= 1 && 60 % (int)PollInterval.TotalSeconds == 0
            : PollInterval.Ticks % TimeSpan.TicksPerMinute == 0 && PollInterval.TotalMinutes <= 60 && 60 % (int)PollInterval.TotalMinutes == 0;
}

/// <summary>The <c>Bounces:Imap</c> section: where the bounce mailbox is read.</summary>
public sealed class BounceMailboxOptions
{
    /// <summary>The IMAP server. Default empty: no mailbox is read.</summary>
    public string? Host { get; set; }

    /// <summary>Its port. Default 993.</summary>
    [Range(1, 65535, ErrorMessage = "Bounces:Imap:Port must be 1-65535.")]
    public int Port { get; set; } = 993;

    /// <summary>Transport security, the values of <c>Smtp:Security</c>: <c>None</c>, <c>StartTls</c>, <c>SslOnConnect</c> or <c>Auto</c> (default).</summary>
    [EnumDataType(typeof(SmtpSecurity), ErrorMessage = "Bounces:Imap:Security must be None, StartTls, SslOnConnect or Auto.")]
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Login name. Required with <see cref="Host"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Password. Required with <see cref="Host"/>; keep it out of appsettings.json.</summary>
    public string? Password { get; set; }

    /// <summary>The folder the reports arrive in. Default <c>INBOX</c>.</summary>
    public string Folder { get; set; } = "INBOX";

    /// <summary>
    /// Where a read message is moved (created when missing). Default empty: it stays and gets the keyword
    /// <c>$MailerProcessed</c> (and \Seen). Nothing is ever deleted.
    /// </summary>
    public string? ProcessedFolder { get; set; }

    /// <summary>The longest one IMAP command may take. Default 00:00:30.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>The <c>Bounces:Webhook</c> section.</summary>
public sealed class BounceWebhookOptions
{
    /// <summary>
    /// Key of the HMAC-SHA256 the generic form is signed with (header <c>X-Mailer-Signature: sha256=&lt;hex&gt;</c>), at
    /// least 32 characters. Default empty: <c>POST /webhooks/bounces/generic</c> answers 404.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>
    /// The SNS topics whose SES notifications <c>POST /webhooks/bounces/ses</c> takes (any AWS account can sign for its own
    /// topics: only these count). Default empty: the SES webhook answers 404.
    /// </summary>
    public List<string> SesTopicArns { get; set; } = [];

    /// <summary>Largest body taken, in bytes. Default 65536.</summary>
    [Range(1024, 1_048_576, ErrorMessage = "Bounces:Webhook:MaxBodyBytes must be 1024-1048576.")]
    public int MaxBodyBytes { get; set; } = 65_536;
}
