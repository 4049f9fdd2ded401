using System.ComponentModel.DataAnnotations;

namespace Mailer.Storage;

public enum StorageProvider
{
    Sqlite,
    PostgreSql,
}

/// <summary>The <c>Storage</c> section: the durable store of subscribers, consents and the delivery ledger.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    /// <summary><c>Sqlite</c> (default, one machine) or <c>PostgreSql</c> (several instances).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// ADO.NET connection string. Default for SQLite: <c>Data Source={Mailer:DataDirectory}/mailer.db</c>;
    /// required for PostgreSQL.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long SQLite waits for a lock held by another connection before it reports busy. Default 30 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult("Storage:ConnectionString is required when Storage:Provider is PostgreSql.", [nameof(ConnectionString)]);
        }

        if (BusyTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Storage:BusyTimeout must be positive (e.g. 00:00:30).", [nameof(BusyTimeout)]);
        }
    }
}
