using Mailer.Campaigns;
using Mailer.Hosting;
using Mailer.Rendering;
using Microsoft.Extensions.Options;

namespace Mailer.Links;

/// <summary>
/// Builds the links in a mail from the configured base URL and signed tokens. The targets of click-throughs
/// are the configured form URLs, looked up at redirect time; nothing of a link comes from input.
/// </summary>
public sealed class LinkBuilder(LinkTokens tokens, IOptions<MailerOptions> mailer, IOptions<CampaignOptions> campaign, TimeProvider time)
{
    /// <summary>How long a confirmation link holds; set from <c>Subscribers:ConfirmWithin</c>.</summary>
    public TimeSpan ConfirmWithin { get; set; } = TimeSpan.FromDays(7);

    private string BaseUrl => mailer.Value.PublicBaseUrl.TrimEnd('/');

    public string ConfirmUrl(long subscriberId) =>
        $"{BaseUrl}/confirm/{tokens.Issue(TokenPurpose.Confirm, subscriberId, time.GetUtcNow() + ConfirmWithin)}";

    public string UnsubscribeUrl(long subscriberId) =>
        $"{BaseUrl}/unsubscribe/{tokens.Issue(TokenPurpose.Unsubscribe, subscriberId)}";

    public string ClickUrl(long subscriberId, string platform) =>
        $"{BaseUrl}/go/{tokens.Issue(TokenPurpose.Click, subscriberId)}/{Uri.EscapeDataString(platform)}";

    public string DoneUrl(long subscriberId, string platform) =>
        $"{BaseUrl}/done/{tokens.Issue(TokenPurpose.Done, subscriberId)}/{Uri.EscapeDataString(platform)}";

    /// <summary>All links of one mail to <paramref name="recipient"/>.</summary>
    public MailLinks For(Recipient recipient, bool withConfirm)
    {
        var known = recipient.Platforms.Where(campaign.Value.Platforms.ContainsKey).ToList();
        return new MailLinks(
            withConfirm ? ConfirmUrl(recipient.SubscriberId) : null,
            UnsubscribeUrl(recipient.SubscriberId),
            known.ToDictionary(p => p, p => ClickUrl(recipient.SubscriberId, p)),
            known.ToDictionary(p => p, p => DoneUrl(recipient.SubscriberId, p)));
    }
}
