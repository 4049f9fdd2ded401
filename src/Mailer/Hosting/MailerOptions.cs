using System.ComponentModel.DataAnnotations;

namespace Mailer.Hosting;

/// <summary>The <c>Mailer</c> section: who sends, where the service is reached, where it keeps its data.</summary>
public sealed class MailerOptions : IValidatableObject
{
    public const string Section = "Mailer";

    /// <summary>Why a Production start stops without <see cref="SigningKey"/>.</summary>
    public const string SigningKeyRequired =
        "Mailer:SigningKey is required in Production: at least 32 characters, the same on every instance (links made by one must open on the others).";

    /// <summary>The public https address the links in mails point at. Default <c>http://localhost:5000</c>.</summary>
    [Required(ErrorMessage = "Mailer:PublicBaseUrl is required."), Url(ErrorMessage = "Mailer:PublicBaseUrl must be an absolute URL such as https://kampagne.example.org.")]
    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>The sender, e.g. <c>Verbraucherblog &lt;kampagne@example.org&gt;</c>. Required.</summary>
    [Required(ErrorMessage = "Mailer:From is required, e.g. 'Kampagne <kampagne@example.org>'."), MailAddress]
    public string From { get; set; } = "";

    /// <summary>Where replies go. Default: the sender.</summary>
    [MailAddress]
    public string? ReplyTo { get; set; }

    /// <summary>
    /// The last field of the <c>Feedback-ID</c> header, by which Gmail's Postmaster Tools group complaints: 5-15
    /// letters, digits or hyphens, the same for all mail of this sender. Default: the name in From's domain before
    /// its top-level domain (<c>example</c> for <c>kampagne@example.org</c>; the whole domain without dots when that
    /// is shorter than 5; <c>-mailer</c> appended when still shorter), cut to 15 characters (see <c>Delivery.FeedbackId</c>).
    /// </summary>
    [RegularExpression("^[A-Za-z0-9-]{5,15}$", ErrorMessage = "Mailer:FeedbackSenderId must be 5-15 letters, digits or hyphens.")]
    public string? FeedbackSenderId { get; set; }

    /// <summary>The sender's postal address, shown in every mail's footer (German Impressum). Required.</summary>
    [Required(ErrorMessage = "Mailer:PostalAddress is required: every mail names its sender's postal address.")]
    public string PostalAddress { get; set; } = "";

    /// <summary>Folder for the database and generated keys, relative to the content root. Default <c>data</c>.</summary>
    [Required(ErrorMessage = "Mailer:DataDirectory is required.")]
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Key that signs the tokens in links (confirm, unsubscribe, click, done); at least 32 characters.
    /// Required in Production (the start stops without it); elsewhere, when empty, one is generated once and kept
    /// in the data folder. Default empty.
    /// </summary>
    public string? SigningKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(SigningKey) && SigningKey.Length < 32)
        {
            yield return new ValidationResult("Mailer:SigningKey must be at least 32 characters.", [nameof(SigningKey)]);
        }
    }
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
            : new ValidationResult($"Mailer:{validationContext.MemberName} must be a mail address such as 'Name <name@example.org>'.", [validationContext.MemberName!]);
    }
}
