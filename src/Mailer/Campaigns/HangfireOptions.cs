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

    /// <summary><c>InMemory</c> (default; forgets jobs on restart, the ledger rebuilds them) or <c>PostgreSql</c>.</summary>
    public HangfireStorageKind Storage { get; set; } = HangfireStorageKind.InMemory;

    /// <summary>Jobs run at once in this process. Default: <c>Smtp:Connections</c> + 2 (dispatcher, confirmation mails).</summary>
    [Range(1, 256)]
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
    }
}
