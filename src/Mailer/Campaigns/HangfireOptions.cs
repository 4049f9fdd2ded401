using System.ComponentModel.DataAnnotations;

namespace Mailer.Campaigns;

public enum HangfireStorageKind
{
    InMemory,
    PostgreSql,
}

/// <summary>The <c>Hangfire</c> section: where jobs wait, how many run at once, who may watch them.</summary>
public sealed class HangfireOptions : IValidatableObject
{
    public const string Section = "Hangfire";

    /// <summary>
    /// <c>InMemory</c> (default; one instance; forgets jobs on restart, the ledger rebuilds them) or <c>PostgreSql</c>
    /// (the jobs in the store's database, shared by every instance; needs <c>Storage:Provider=PostgreSql</c>).
    /// </summary>
    public HangfireStorageKind Storage { get; set; } = HangfireStorageKind.InMemory;

    /// <summary>With <c>PostgreSql</c> storage: the schema of Hangfire's tables, created on start. Default <c>hangfire</c>.</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "Hangfire:Schema must be a lower-case PostgreSQL name such as hangfire.")]
    public string Schema { get; set; } = "hangfire";

    /// <summary>
    /// With <c>PostgreSql</c> storage: how often an idle worker looks for a job enqueued by another instance
    /// (one enqueued in its own process wakes it at once). Default 00:00:01.
    /// </summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// With <c>PostgreSql</c> storage: a job whose instance stopped extending it for this long is given to another worker
    /// (a killed instance's job). A running job keeps extending it, so this is not a limit on run time. Default 00:05:00;
    /// at least 00:03:00, more than the 2 minutes after which a send job hands over to a fresh one.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// With <c>InMemory</c> storage: how long a finished job (and Hangfire's other expiring entries) stays in memory and on the
    /// dashboard. Every job is a few kilobytes, and a signup rush makes many. Default 00:30:00; 00:01:00 to 1.00:00:00.
    /// </summary>
    public TimeSpan InMemoryHistory { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Workers of the confirmation mails (queue <c>default</c>). Default 2. The dispatcher has one worker of its own; the send workers are <c>Smtp:Connections</c>.</summary>
    [Range(1, 256, ErrorMessage = "Hangfire:WorkerCount must be 1-256.")]
    public int? WorkerCount { get; set; }

    /// <summary>With <see cref="DashboardPassword"/>: Basic auth for <c>/hangfire</c> from other machines. Default: local requests only.</summary>
    public string? DashboardUser { get; set; }

    /// <summary>The dashboard password; set both or neither.</summary>
    public string? DashboardPassword { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(DashboardUser) != string.IsNullOrEmpty(DashboardPassword))
        {
            yield return new ValidationResult("Hangfire:DashboardUser and Hangfire:DashboardPassword must be set together.",
                [nameof(DashboardUser), nameof(DashboardPassword)]);
        }

        if (QueuePollInterval < TimeSpan.FromMilliseconds(100) || QueuePollInterval > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("Hangfire:QueuePollInterval must be between 00:00:00.1 and 00:01:00.", [nameof(QueuePollInterval)]);
        }

        if (InMemoryHistory < TimeSpan.FromMinutes(1) || InMemoryHistory > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult("Hangfire:InMemoryHistory must be between 00:01:00 and 1.00:00:00.", [nameof(InMemoryHistory)]);
        }

        if (InvisibilityTimeout < TimeSpan.FromMinutes(3))
        {
            yield return new ValidationResult("Hangfire:InvisibilityTimeout must be at least 00:03:00 (a send job runs up to 2 minutes before it hands over).",
                [nameof(InvisibilityTimeout)]);
        }
    }
}
