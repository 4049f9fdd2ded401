using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;
using Mailer.Campaigns;
using Mailer.Observability;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace Mailer.Dashboard;

/// <summary>What the campaign page shows: per mailing its numbers and last failures; the timeline of a looked-up address.</summary>
internal sealed record CampaignPageModel(
    IReadOnlyList<CampaignPageModel.Mailing> Mailings,
    string? LookedUp,
    TimelineView? Timeline,
    string FormField,
    string FormToken)
{
    /// <summary>More than one campaign: each mailing is shown with its campaign.</summary>
    public bool SeveralCampaigns { get; init; }

    /// <param name="Paused">Why the circuit breaker holds the mailing (<c>resume</c> continues it); null while it sends.</param>
    public sealed record Mailing(ScheduledMailing Schedule, string DueLocal, MailingCounts Counts, double PerSecond,
        IReadOnlyList<(string At, DeliveryFailure Failure)> Failures, string? Paused = null);
}

/// <summary>
/// <c>/hangfire/campaign</c>, the "Campaign" page of the Hangfire dashboard, where operators already watch the jobs: per
/// mailing its due time, recipients, sent/failed/skipped/queued with a progress bar, this instance's rate over the last
/// minute, the last failures with the server's reply, and a form that shows one address's timeline. The dashboard's
/// own middleware admits the caller (<see cref="DashboardAccess"/>) and checks the form's antiforgery token; the
/// address goes in a POST body, so it stays out of URLs and request logs.
/// </summary>
internal sealed class CampaignPage : IDashboardDispatcher
{
    public const string Path = "/campaign";
    private const int FailuresShown = 10;

    private static int _registered;

    /// <summary>Adds the page and its menu entry to Hangfire's dashboard, once per process (Hangfire keeps them in static lists).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        DashboardRoutes.Routes.Add(Path, new CampaignPage());
        NavigationMenu.Items.Add(page => new MenuItem("Campaign", page.Url.To(Path)) { Active = page.RequestPath.StartsWith(Path, StringComparison.Ordinal) });
    }

    public async Task Dispatch(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var model = await LoadAsync(context, http);
        http.Items[typeof(CampaignPageModel)] = model;

        await Rendering.Dispatch(context);
    }

    /// <summary>Hangfire's own rendering of a page, with its layout and menu; the model is loaded before, so the page only writes.</summary>
    private static readonly IDashboardDispatcher Rendering = ViewDispatcher();

    private static IDashboardDispatcher ViewDispatcher()
    {
        var routes = new Hangfire.Dashboard.RouteCollection();
        routes.AddRazorPage(Path, _ => new View());
        return routes.FindDispatcher(Path).Item1;
    }

    private static async Task<CampaignPageModel> LoadAsync(DashboardContext context, HttpContext http)
    {
        var services = http.RequestServices;
        var ledger = services.GetRequiredService<DeliveryLedger>();
        var readings = services.GetRequiredService<LedgerReadings>();
        var timeline = services.GetRequiredService<SubscriberTimeline>();
        var rate = services.GetRequiredService<MailerMetrics>().Rate;
        var breaker = services.GetRequiredService<Bounces.MailingBreaker>();
        var cancel = http.RequestAborted;

        var catalog = services.GetRequiredService<CampaignCatalog>();
        var counts = (await ledger.CountsAsync(cancel)).ToDictionary(c => (c.Campaign, c.Mailing));
        var mailings = new List<CampaignPageModel.Mailing>();
        foreach (var campaign in catalog.All)
        {
            string Local(DateTimeOffset instant) => SubscriberTimeline.Local(campaign, instant);
            foreach (var mailing in await timeline.MailingsAsync(campaign, cancel))
            {
                var failures = await readings.LastFailuresAsync(mailing.Campaign, mailing.Mailing, FailuresShown, cancel);
                mailings.Add(new(mailing, Local(mailing.Due),
                    counts.GetValueOrDefault((mailing.Campaign, mailing.Mailing)) ?? new MailingCounts { Campaign = mailing.Campaign, Mailing = mailing.Mailing },
                    rate.PerSecond(mailing.Campaign, mailing.Mailing), [.. failures.Select(f => (Local(DateTimeOffset.FromUnixTimeMilliseconds(f.UpdatedAt)), f))],
                    await breaker.PausedAsync(mailing.Key, cancel)));
            }
        }

        string? lookedUp = null;
        TimelineView? view = null;
        // A body that is no form (or a broken one) is no lookup: the page as on GET.
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.HasFormContentType
            && await RequestBody.TryReadFormAsync(http.Request, cancel) is { } form)
        {
            lookedUp = form["email"].ToString().Trim();
            if (EmailAddress.Normalize(lookedUp, out var normalized) == EmailProblem.None)
            {
                // The address's timeline in the first campaign it is in.
                foreach (var campaign in catalog.All)
                {
                    view ??= await timeline.ForAsync(campaign, normalized, services.GetRequiredService<TimeProvider>().GetUtcNow(), cancel);
                }
            }
        }

        var field = services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.FormFieldName;
        return new CampaignPageModel(mailings, lookedUp, view, field, context.AntiforgeryToken ?? "") { SeveralCampaigns = catalog.All.Count > 1 };
    }

    /// <summary>The page inside Hangfire's layout; everything it writes comes from <see cref="CampaignPageHtml"/>, encoded there.</summary>
    private sealed class View : RazorPage
    {
        public override void Execute()
        {
            Layout = new LayoutPage("Campaign");
            var model = (CampaignPageModel)Context.GetHttpContext().Items[typeof(CampaignPageModel)]!;
            WriteLiteral(CampaignPageHtml.Render(model));
        }
    }
}
