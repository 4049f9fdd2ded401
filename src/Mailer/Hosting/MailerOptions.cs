using System.ComponentModel.DataAnnotations;

namespace Mailer.Hosting;

/// <summary>The <c>Mailer</c> section: who sends, where the service is reached, where it keeps its data.</summary>
public sealed class MailerOptions
{
    public const string Section = "Mailer";

    /// <summary>The public https address the links in mails point at. Default <c>http://localhost:5000</c>.</summary>
    [Required, Url]
    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>The sender, e.g. <c>Verbraucherblog &lt;kampagne@example.org&gt;</c>. Required.</summary>
    [Required, MailAddress]
    public string From { get; set; } = "";

    /// <summary>Where replies go. Default: the sender.</summary>
    [MailAddress]
    public string? ReplyTo { get; set; }

    /// <summary>The sender's postal address, shown in every mail's footer (German Impressum). Required.</summary>
    [Required]
    public string PostalAddress { get; set; } = "";

    /// <summary>Folder for the database and generated keys, relative to the content root. Default <c>data</c>.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Key that signs the tokens in links (confirm, unsubscribe, click, done); at least 32 characters.
    /// Required in Production; in Development one is generated once and kept in the data folder.
    /// </summary>
    [MinLength(32)]
    public string? SigningKey { get; set; }
}

/// <summary>Validates a mailbox the way MimeKit will parse it, display name allowed.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MailAddressAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is null || value is string { Length: 0 })
        {
            return ValidationResult.Success;
        }

        return value is string text && MimeKit.MailboxAddress.TryParse(text, out var mailbox) && mailbox.Address.Contains('@')
            ? ValidationResult.Success
            : new ValidationResult($"{validationContext.MemberName} must be a mail address such as 'Name <name@example.org>'.", [validationContext.MemberName!]);
    }
}
