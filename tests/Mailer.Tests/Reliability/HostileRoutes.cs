using System.Reflection;
using System.Text.RegularExpressions;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RouteCollection = Hangfire.Dashboard.RouteCollection;

namespace Mailer.Tests.Reliability;

/// <summary>One route and method of the running service, as <c>METHOD template</c>; <c>*</c> where the route takes any method.</summary>
internal sealed record MappedRoute(string Method, string Template, bool IsDashboard)
{
    public override string ToString() => $"{Method} {Template}";
}

/// <summary>
/// Every route the service answers, read from the running application: the endpoints of its <see cref="EndpointDataSource"/>
/// and the Hangfire dashboard's own routes (its <see cref="RouteCollection"/>, which the dashboard middleware matches by
/// regular expression and which no endpoint data source lists). <see cref="Known"/> is the list the hostile sweep was
/// written for: a route that appears in the application but not there fails <c>TheHostileRouteList_IsEveryMappedRoute</c>.
/// </summary>
internal static partial class HostileRoutes
{
    public const string DashboardPath = "/hangfire";

    /// <summary>The routes and methods the sweep covers. A new route: add it here, then see that the sweep holds for it.</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        "GET /", "GET /{campaign:regex(^[a-z0-9][a-z0-9-]{{0,62}}$)}", "POST /subscribe",
        "GET /confirm/{token}", "POST /confirm/{token}", "GET /unsubscribe/{token}", "POST /unsubscribe/{token}",
        "GET /go/{token}/{platform}", "GET /done/{token}/{platform}", "POST /done/{token}/{platform}",
        "* /healthz", "* /healthz/live", "* /healthz/ready", "* /metrics",
        "GET /openapi/{documentName}.json",
        "POST /webhooks/bounces/{provider}",

        // Hangfire's dashboard: pages, their scripts and fonts, and the commands behind its buttons (POST).
        "* /hangfire", "* /hangfire/stats", "* /hangfire/js[0-9]+", "* /hangfire/css[0-9]+", "* /hangfire/css-dark[0-9]+",
        "* /hangfire/fonts/glyphicons-halflings-regular/eot", "* /hangfire/fonts/glyphicons-halflings-regular/svg",
        "* /hangfire/fonts/glyphicons-halflings-regular/ttf", "* /hangfire/fonts/glyphicons-halflings-regular/woff",
        "* /hangfire/fonts/glyphicons-halflings-regular/woff2",
        "* /hangfire/jobs/enqueued", "* /hangfire/jobs/enqueued/fetched/(?<Queue>.+)", "* /hangfire/jobs/enqueued/delete",
        "* /hangfire/jobs/enqueued/requeue", "* /hangfire/jobs/enqueued/(?<Queue>.+)",
        "* /hangfire/jobs/processing", "* /hangfire/jobs/processing/delete", "* /hangfire/jobs/processing/requeue",
        "* /hangfire/jobs/scheduled", "* /hangfire/jobs/scheduled/enqueue", "* /hangfire/jobs/scheduled/delete",
        "* /hangfire/jobs/succeeded", "* /hangfire/jobs/succeeded/requeue",
        "* /hangfire/jobs/failed", "* /hangfire/jobs/failed/requeue", "* /hangfire/jobs/failed/delete",
        "* /hangfire/jobs/deleted", "* /hangfire/jobs/deleted/requeue",
        "* /hangfire/jobs/awaiting", "* /hangfire/jobs/awaiting/enqueue", "* /hangfire/jobs/awaiting/delete",
        "* /hangfire/jobs/actions/requeue/(?<JobId>.+)", "* /hangfire/jobs/actions/delete/(?<JobId>.+)", "* /hangfire/jobs/details/(?<JobId>.+)",
        "* /hangfire/recurring", "* /hangfire/recurring/remove", "* /hangfire/recurring/trigger",
        "* /hangfire/servers", "* /hangfire/retries",
        // Mailer's own dashboard page: the campaign's state, and its address lookup (POST).
        "* /hangfire/campaign",
    };

    /// <summary>The methods sent to a route that names none (health checks, the dashboard).</summary>
    public static readonly string[] AnyMethod = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"];

    /// <summary>The methods sent to a route that names its own: those, and two it does not take (405).</summary>
    public static IEnumerable<string> MethodsFor(MappedRoute route) =>
        route.Method == "*" ? AnyMethod : new[] { route.Method, "OPTIONS", route.Method == "POST" ? "PUT" : "DELETE" }.Distinct();

    public static IReadOnlyList<MappedRoute> Mapped(IServiceProvider services)
    {
        var endpoints = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["*"])
                .Select(m => new MappedRoute(m, e.RoutePattern.RawText ?? "", IsDashboard: false)));
        var dashboard = DashboardTemplates(services.GetRequiredService<RouteCollection>())
            .Select(t => new MappedRoute("*", DashboardPath + (t == "/" ? "" : t), IsDashboard: true));
        return [.. endpoints.Concat(dashboard).Distinct()];
    }

    /// <summary>
    /// The dashboard's path templates, in the order it matches them. Hangfire keeps them private (it offers adding and
    /// finding, not listing); should that field go, this fails and says so rather than sweeping fewer routes.
    /// </summary>
    private static IEnumerable<string> DashboardTemplates(RouteCollection routes)
    {
        var field = typeof(RouteCollection).GetField("_dispatchers", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Hangfire's RouteCollection no longer keeps _dispatchers: list the dashboard's routes another way.");
        var dispatchers = (System.Collections.IEnumerable)field.GetValue(routes)!;
        foreach (Tuple<string, IDashboardDispatcher> entry in dispatchers)
        {
            yield return entry.Item1;
        }
    }

    /// <summary>
    /// <paramref name="route"/>'s template with its parameters filled from <paramref name="fill"/> (by parameter name):
    /// <c>{token}</c> in an endpoint's template, <c>(?&lt;JobId&gt;.+)</c> or <c>[0-9]+</c> in the dashboard's.
    /// </summary>
    public static string Path(MappedRoute route, Func<string, string> fill)
    {
        if (!route.IsDashboard)
        {
            return EndpointParameter().Replace(route.Template, m => fill(m.Groups["name"].Value));
        }

        var path = NamedGroup().Replace(route.Template, m => fill(m.Groups["name"].Value));
        path = path.Replace("[0-9]+", fill("digits"), StringComparison.Ordinal);
        return path.IndexOfAny(['(', '[', '+', '*', '\\', '^', '$', '?']) < 0
            ? path
            : throw new InvalidOperationException($"Cannot fill the dashboard route {route.Template}: teach HostileRoutes.Path its pattern.");
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z]+)(:[^}]*)?\??\}")]
    private static partial Regex EndpointParameter();

    [GeneratedRegex(@"\(\?<(?<name>[A-Za-z]+)>[^)]*\)")]
    private static partial Regex NamedGroup();
}
