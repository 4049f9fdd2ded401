namespace Mailer.Subscribers;

/// <summary>Where a subscriber stands: <c>pending</c> until the confirmation click, then <c>confirmed</c> until they leave.</summary>
public enum SubscriberStatus
{
    Pending,
    Confirmed,
    Unsubscribed,
}

/// <summary>One address on the list, as stored.</summary>
/// <param name="Email">Normalized (<see cref="EmailAddress.Normalize"/>): trimmed, lower-cased, an IDN domain in Unicode.</param>
/// <param name="Platforms">The platforms the subscriber chose, in the campaign's order.</param>
/// <param name="DonePlatforms">The platforms the subscriber said they have objected on.</param>
/// <param name="ConfirmRequestedAt">The last signup that asked for a confirmation mail.</param>
/// <param name="ConfirmSentAt">When the last confirmation mail was handed to the transport.</param>
public sealed record Subscriber(
    long Id,
    string Email,
    string Locale,
    IReadOnlyList<string> Platforms,
    IReadOnlyList<string> DonePlatforms,
    SubscriberStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConfirmedAt,
    DateTimeOffset? UnsubscribedAt,
    DateTimeOffset? ConfirmRequestedAt,
    DateTimeOffset? ConfirmSentAt)
{
    /// <summary>The campaign this subscription is to.</summary>
    public string Campaign { get; init; } = "";

    /// <summary>Asked from the standing list to join (the confirmation mail is the invitation); null after a signup.</summary>
    public DateTimeOffset? InvitedAt { get; init; }

    /// <summary>A confirmation mail was asked for and has not gone out since.</summary>
    public bool AwaitsConfirmationMail =>
        Status == SubscriberStatus.Pending
        && ConfirmRequestedAt is { } requested
        && (ConfirmSentAt is not { } sent || sent < requested);

    /// <summary>The chosen platforms not yet marked done, in the campaign's order.</summary>
    public IReadOnlyList<string> OpenPlatforms => Platforms.Where(p => !DonePlatforms.Contains(p)).ToList();
}

/// <summary>How a consent reached the store.</summary>
public enum ConsentSource
{
    Form,
    Api,
    Import,

    /// <summary>An invitation from the standing list, accepted with its link's button.</summary>
    Invite,
}

/// <summary>
/// The proof of one consent (GDPR Art. 7(1)): when and from where it was given, which text was shown, when and
/// from where the confirmation link was clicked, and when it was withdrawn.
/// </summary>
public sealed record Consent(
    long Id,
    long SubscriberId,
    ConsentSource Source,
    string ConsentTextVersion,
    DateTimeOffset GivenAt,
    string? ClientIp,
    string? UserAgent,
    DateTimeOffset? ConfirmedAt,
    string? ConfirmIp,
    DateTimeOffset? WithdrawnAt);

/// <summary>What a subscriber did with a link in a mail: <c>click</c> (went to a form) or <c>done</c> (said they objected).</summary>
public sealed record LinkEvent(long Id, long SubscriberId, string Kind, string Platform, DateTimeOffset At);

/// <summary>The client behind a link event: its address and user agent (at most 512 characters), each null when unknown.</summary>
public sealed record LinkClient(string? Ip, string? UserAgent)
{
    public const int MaxUserAgentLength = 512;

    public static readonly LinkClient Unknown = new(null, null);

    public static LinkClient Of(HttpContext context)
    {
        var userAgent = context.Request.Headers.UserAgent.ToString();
        return new LinkClient(context.Connection.RemoteIpAddress?.ToString(),
            userAgent.Length == 0 ? null : userAgent.Length > MaxUserAgentLength ? userAgent[..MaxUserAgentLength] : userAgent);
    }
}

/// <summary>A signup that passed validation, with what the consent record needs.</summary>
/// <param name="Email">Already normalized (<see cref="EmailAddress.Normalize"/>).</param>
public sealed record Signup(
    string Email,
    string Locale,
    IReadOnlyList<string> Platforms,
    ConsentSource Source,
    string ConsentTextVersion,
    string? ClientIp,
    string? UserAgent)
{
    /// <summary>The campaign signed up for; null for the default one (the only campaign, or the old form's).</summary>
    public string? Campaign { get; init; }

    /// <summary>Also asked to hear of the next deadline like this one (the standing list; its own consent).</summary>
    public bool StandingList { get; init; }

    /// <summary>The version of the standing list's text that was shown (<see cref="PageRenderer.StandingListTextVersion"/>).</summary>
    public string? StandingListTextVersion { get; init; }
}

public enum SignupOutcome
{
    /// <summary>A new address, now pending.</summary>
    Created,

    /// <summary>The address was pending; its choices now follow this signup.</summary>
    StillPending,

    /// <summary>The address had unsubscribed and is pending again, with a new consent.</summary>
    Resubscribed,

    /// <summary>The address is confirmed; nothing changed.</summary>
    AlreadyConfirmed,
}

/// <param name="ConfirmationRequested">A confirmation mail is due: enqueue the job.</param>
public sealed record SignupResult(long SubscriberId, SignupOutcome Outcome, bool ConfirmationRequested);

public enum ConfirmOutcome
{
    Confirmed,
    AlreadyConfirmed,

    /// <summary>The subscriber unsubscribed; an old confirmation link does not bring them back.</summary>
    Unsubscribed,
    NotFound,
}
