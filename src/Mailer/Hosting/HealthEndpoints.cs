using Mailer.Campaigns;
using Mailer.Dashboard;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mailer.Hosting;

/// <summary>
/// Three health answers: <c>/healthz/live</c> (the process answers; no check runs), <c>/healthz/ready</c> (it can serve
/// signups: the checks tagged <see cref="Ready"/>, the store; an SMTP outage leaves it ready, since signups wait for the
/// relay in the queue) and <c>/healthz</c> (every check, the relay included: can mails go out now). The public answer is
/// the bare status; the entries with their descriptions (hosts, paths, errors) only for callers the dashboard admits.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>The tag of the checks <c>/healthz/ready</c> runs.</summary>
    public const string Ready = "ready";

    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", Answer(_ => true));
        app.MapHealthChecks("/healthz/live", Answer(_ => false));
        app.MapHealthChecks("/healthz/ready", Answer(check => check.Tags.Contains(Ready)));
    }

    private static HealthCheckOptions Answer(Func<HealthCheckRegistration, bool> predicate) =>
        new() { Predicate = predicate, ResponseWriter = WriteAsync };

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        if (!context.RequestServices.GetRequiredService<DashboardAccess>().Authorize(context))
        {
            // A refused caller still gets its answer, just not the details, and no password prompt with it.
            context.Response.Headers.Remove("WWW-Authenticate");
            return context.Response.WriteAsJsonAsync(new { status = report.Status.ToString() });
        }

        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }
}
