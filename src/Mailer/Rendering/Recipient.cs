namespace Mailer.Rendering;

/// <summary>Who a mail is for: the subscriber's id and address, language and the platforms to mention.</summary>
/// <param name="Platforms">The platforms the mail speaks of (chosen and not yet done), in the campaign's order.</param>
public sealed record Recipient(long SubscriberId, string Email, string Locale, IReadOnlyList<string> Platforms)
{
    /// <summary>The campaign of the subscription (null: the default campaign); it decides the templates and links.</summary>
    public string? Campaign { get; init; }

    /// <summary>The mail that asks for the confirmation: <c>confirm</c> after a signup, <c>invite</c> for an invitation from the standing list.</summary>
    public string ConfirmationMail { get; init; } = Mailings.Confirm;
}

/// <summary>The links a mail may carry, built by the service (never taken from input).</summary>
/// <param name="ConfirmUrl">Only for the <c>confirm</c> and <c>invite</c> mails.</param>
/// <param name="UnsubscribeUrl">The one-click unsubscribe page.</param>
/// <param name="PlatformUrls">Per platform, the tracked link that redirects to its objection form.</param>
/// <param name="DoneUrls">Per platform, the page where the subscriber marks it done.</param>
public sealed record MailLinks(
    string? ConfirmUrl,
    string UnsubscribeUrl,
    IReadOnlyDictionary<string, string> PlatformUrls,
    IReadOnlyDictionary<string, string> DoneUrls);

/// <summary>A rendered mail: one subject line and the two bodies.</summary>
public sealed record RenderedMail(string Subject, string Html, string Text);

/// <summary>The mails of the campaign, by the names used in templates, configuration and the ledger.</summary>
public static class Mailings
{
    public const string Confirm = "confirm";

    /// <summary>The invitation of the standing list to a new campaign: its link, like the confirmation's, subscribes them with one button.</summary>
    public const string Invite = "invite";

    /// <summary>Whether <paramref name="mailing"/> asks for a confirmation (and so carries <c>confirm_url</c>).</summary>
    public static bool AsksToConfirm(string mailing) => mailing is Confirm or Invite;
    public const string Announcement = "announcement";
    public const string ReminderWeek = "reminder-week";
    public const string ReminderFinal = "reminder-final";

    public static readonly IReadOnlyList<string> All = [Confirm, Announcement, ReminderWeek, ReminderFinal];

    /// <summary>The mailings of the campaign itself, in the order they go out (not the opt-in request).</summary>
    public static readonly IReadOnlyList<string> Campaign = [Announcement, ReminderWeek, ReminderFinal];

    public static readonly IReadOnlyList<string> Locales = ["de", "en"];
}
