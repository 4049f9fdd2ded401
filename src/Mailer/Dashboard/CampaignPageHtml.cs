using System.Globalization;
using System.Net;
using System.Text;
using Mailer.Campaigns;

namespace Mailer.Dashboard;

/// <summary>
/// The campaign page's HTML. Every value from the store (replies of servers, addresses, platforms) goes through
/// <see cref="E"/>: a server's reply is text written by someone else, and may hold markup.
/// </summary>
internal static class CampaignPageHtml
{
    public static string Render(CampaignPageModel model)
    {
        var html = new StringBuilder();
        html.Append("""<div class="row"><div class="col-md-12"><h1 class="page-header">Campaign</h1>""");
        html.Append("""<table class="table table-striped mailer-mailings"><thead><tr><th>Mailing</th><th>Due</th><th>Recipients</th><th>Sent</th><th>Failed</th><th>Skipped</th><th>Queued</th><th>Progress</th><th>Rate (this instance, last minute)</th></tr></thead><tbody>""");
        foreach (var mailing in model.Mailings)
        {
            var c = mailing.Counts;
            html.Append(Invariant($"""<tr data-mailing="{E(mailing.Schedule.Mailing)}" data-campaign="{E(mailing.Schedule.Campaign)}"><td>{E(model.SeveralCampaigns ? mailing.Schedule.Key : mailing.Schedule.Mailing)}{Paused(mailing.Paused)}</td><td>{E(mailing.DueLocal)}</td><td>{c.Recipients}</td><td>{c.Sent}</td><td>{c.Failed}</td><td>{c.Skipped}</td><td>{c.Queued + c.Sending}</td><td>"""));
            html.Append(ProgressBar(c)).Append(Invariant($"</td><td>{mailing.PerSecond:0.##}/s</td></tr>"));
        }

        html.Append("</tbody></table>");
        foreach (var mailing in model.Mailings.Where(m => m.Failures.Count > 0))
        {
            html.Append(Invariant($"""<h3>Last failures of {E(model.SeveralCampaigns ? mailing.Schedule.Key : mailing.Schedule.Mailing)}</h3><table class="table table-condensed mailer-failures"><thead><tr><th>When</th><th>Subscriber</th><th>Attempts</th><th>Server's reply</th></tr></thead><tbody>"""));
            foreach (var (at, failure) in mailing.Failures)
            {
                html.Append(Invariant($"""<tr><td>{E(at)}</td><td>#{failure.SubscriberId}</td><td>{failure.Attempts}</td><td class="mailer-reply">{E(failure.LastReply ?? "")}</td></tr>"""));
            }

            html.Append("</tbody></table>");
        }

        html.Append(LookupForm(model));
        html.Append("</div></div>");
        return html.ToString();
    }

    /// <summary>The circuit breaker's mark on a paused mailing, with its reason; nothing while it sends.</summary>
    private static string Paused(string? reason) =>
        reason is null ? "" : $""" <span class="label label-danger mailer-paused" title="{E(reason)}">paused</span><br><small>{E(reason)}; <code>resume</code> continues it</small>""";

    private static string ProgressBar(Storage.MailingCounts c)
    {
        if (c.Recipients == 0)
        {
            return """<span class="text-muted">no rows yet</span>""";
        }

        string Part(long count, string kind, string label) =>
            count == 0 ? "" : Invariant($"""<div class="progress-bar progress-bar-{kind}" style="width: {100.0 * count / c.Recipients:0.##}%" title="{label}: {count}"></div>""");
        var done = 100.0 * (c.Sent + c.Failed + c.Skipped) / c.Recipients;
        return Invariant($"""<div class="progress" style="margin-bottom: 0" role="progressbar" aria-valuenow="{done:0.#}" aria-valuemin="0" aria-valuemax="100">""")
            + Part(c.Sent, "success", "sent") + Part(c.Failed, "danger", "failed") + Part(c.Skipped, "warning", "skipped") + "</div>"
            + Invariant($"""<small>{done:0.#}% done</small>""");
    }

    private static string LookupForm(CampaignPageModel model)
    {
        var html = new StringBuilder("""<h3>Look up an address</h3><form method="post" class="form-inline mailer-lookup">""");
        html.Append(Invariant($"""<input type="hidden" name="{E(model.FormField)}" value="{E(model.FormToken)}">"""));
        html.Append(Invariant($"""<label for="mailer-email">Address</label> <input type="email" id="mailer-email" name="email" class="form-control" required value="{E(model.LookedUp ?? "")}"> <button type="submit" class="btn btn-primary">Show timeline</button></form>"""));
        if (model.LookedUp is null)
        {
            return html.ToString();
        }

        if (model.Timeline is not { } timeline)
        {
            return html.Append(Invariant($"""<p class="mailer-timeline-none">No subscriber with the address {E(model.LookedUp)}.</p>""")).ToString();
        }

        html.Append(Invariant($"""<div class="mailer-timeline"><p>{E(timeline.Summary)}</p>"""));
        if (timeline.Stopped is not null)
        {
            html.Append(Invariant($"""<p class="mailer-stopped text-danger">{E(timeline.Stopped)}</p>"""));
        }

        html.Append("""<table class="table table-condensed"><tbody>""");
        foreach (var (mailing, explanation) in timeline.Mailings)
        {
            html.Append(Invariant($"""<tr><th>{E(mailing)}</th><td>{E(explanation)}</td></tr>"""));
        }

        foreach (var report in timeline.Reports)
        {
            html.Append(Invariant($"""<tr class="mailer-report"><th>came back</th><td>{E(report)}</td></tr>"""));
        }

        return html.Append("</tbody></table></div>").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
