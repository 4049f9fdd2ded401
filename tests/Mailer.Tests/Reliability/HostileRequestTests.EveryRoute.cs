using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Mailer.Tests.Support;

namespace Mailer.Tests.Reliability;

/// <summary>
/// The sweep: every route and method the service maps (<see cref="HostileRoutes"/>, the dashboard's included), its
/// parameters filled with hostile values, each sent every body of <see cref="MalformedBodies"/>, by a stranger and, where
/// it decides anything (the dashboard, the health details), by a caller the dashboard admits (this machine, or the
/// operator's password, both with a valid antiforgery pair). No answer may be a server error.
/// </summary>
public sealed partial class HostileRequestTests
{
    private static readonly string[] HostileParameters =
    [
        "A", "1", "-1", "99999999999999999999", "%3Cx-injected%3E", "%22%3E%3Cx-injected%3E", "..%2F..%2Fhangfire", "%2F%2Fevil.example",
        "%00", "%ff%fe", "%C0%AF", "%F0%9F%98%80", "%27%20OR%20%271%27%3D%271", "x%0D%0ASet-Cookie:%20owned=1", "%2e%2e", "%7B%7B%207%2A7%20%7D%7D",
        new string('A', 300), "default", "facebook", "v1",
    ];

    private enum Caller
    {
        Stranger,
        ThisMachine,
        OperatorWithPassword,
    }

    [Fact]
    public Task EveryRouteAndMethod_WithEveryMalformedBody_ByStrangersAndAdmittedCallers_AnswersNoServerError() => SweepAsync(configure: null);

    /// <summary>Again with the store and Hangfire's jobs in PostgreSQL, whose dashboard storage parses job ids and queue names its own way.</summary>
    [Fact]
    public async Task EveryRouteAndMethod_WithTheStoreAndTheJobsInPostgreSql_AnswersNoServerError()
    {
        await using var postgres = await PostgresTestDatabase.CreateAsync();
        await SweepAsync(factory =>
        {
            foreach (var (key, value) in postgres.Settings(hangfire: true))
            {
                factory.Settings[key] = value;
            }
        });
    }

    private static async Task SweepAsync(Action<MailerAppFactory>? configure)
    {
        await using var target = Target.Start(configure);
        var (surface, _) = await SeedAsync(target.App.Services, target.Server);
        var before = await SnapshotAsync(target.App.Services);
        var routes = HostileRoutes.Mapped(target.App.Services);
        var requests = Sweep(routes, surface).ToList();

        var results = new ConcurrentBag<(SweepRequest Request, RawResponse Response)>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancel },
            async (request, _) => results.Add((request, await RawHttp.SendAsync(target.Server, request.Bytes, TimeSpan.FromSeconds(20)))));

        static string Describe(IEnumerable<(SweepRequest Request, RawResponse Response)> found) =>
            string.Join("\n", found.GroupBy(f => $"{f.Request.Route} as {f.Request.Caller}").Take(12).Select(g => $"{g.Key}: {g.Count()}, e.g. {g.First().Request} → "
                + $"{g.First().Response.Status} {g.First().Response.Text[..Math.Min(200, g.First().Response.Text.Length)].ReplaceLineEndings("⏎")}"));

        TestContext.Current.TestOutputHelper?.WriteLine($"{requests.Count} requests over {routes.Count} routes and methods; answers by status: "
            + string.Join(", ", results.GroupBy(r => r.Response.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));

        var serverErrors = results.Where(r => r.Response.Status >= 500).OrderBy(r => r.Request.ToString(), StringComparer.Ordinal).ToList();
        Assert.True(serverErrors.Count == 0, $"{serverErrors.Count} server errors:\n{Describe(serverErrors)}");
        var unanswered = results.Where(r => r.Response.Status == 0 && !r.Request.Body.MayBeCutOff).ToList();
        Assert.True(unanswered.Count == 0, $"{unanswered.Count} requests without an answer:\n{Describe(unanswered)}");
        var opened = results.Where(r => r.Request.Route.IsDashboard && r.Request.Caller == Caller.Stranger && r.Response.Status is >= 200 and < 400).ToList();
        Assert.True(opened.Count == 0, $"{opened.Count} dashboard answers to a stranger:\n{Describe(opened)}");
        var redirects = results.Where(r => r.Response.Status is >= 300 and < 400 && !r.Request.Route.IsDashboard).ToList();
        Assert.True(redirects.Count == 0, $"{redirects.Count} redirects:\n{Describe(redirects)}");
        Assert.Contains(results, r => r.Request.Route.IsDashboard && r.Request.Caller == Caller.ThisMachine && r.Response.Status == 200);
        Assert.Contains(results, r => r.Request.Route.IsDashboard && r.Request.Caller == Caller.OperatorWithPassword && r.Response.Status == 200);
        Assert.Equal(before, await SnapshotAsync(target.App.Services));

        // A server error the client never saw (it had hung up) is still an unhandled exception in the log.
        var unhandled = target.Logs.Lines.Where(l => l.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(unhandled.Count == 0, $"{unhandled.Count} unhandled exceptions logged, e.g.:\n{string.Join("\n", unhandled.Take(3))}");
    }

    [Fact]
    public async Task TheHostileRouteList_IsEveryMappedRoute()
    {
        await using var target = Target.Start();

        var mapped = HostileRoutes.Mapped(target.App.Services).Select(r => r.ToString()).ToHashSet(StringComparer.Ordinal);

        var missing = mapped.Except(HostileRoutes.Known).Order(StringComparer.Ordinal).ToList();
        var stale = HostileRoutes.Known.Except(mapped).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0 && stale.Count == 0,
            $"New routes, not in HostileRoutes.Known (add them, and see that the sweep's promises hold there):\n{string.Join("\n", missing.Select(m => $"\"{m}\","))}"
            + $"\nIn HostileRoutes.Known but no longer mapped:\n{string.Join("\n", stale)}");
    }

    private sealed record SweepRequest(MappedRoute Route, string Method, string Path, Caller Caller, MalformedBody Body, byte[] Bytes)
    {
        public override string ToString() => $"{Method} {Path} as {Caller} with {Body.Name}";
    }

    private static IEnumerable<SweepRequest> Sweep(IReadOnlyList<MappedRoute> routes, AttackSurface surface)
    {
        var values = surface.HarmlessWhenValid.Values.SelectMany(t => t).Concat(HostileParameters).ToList();
        var n = 0;
        var sent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            // Where the caller decides the answer (the dashboard, the health details, the metrics): every kind of caller.
            var decides = route.IsDashboard || route.Template.StartsWith("/healthz", StringComparison.Ordinal) || route.Template == "/metrics";
            var methods = route.IsDashboard ? ["GET", "POST", "DELETE"] : HostileRoutes.MethodsFor(route);
            foreach (var method in methods.Where(m => sent.Add($"{m} {route.Template}")))
            {
                foreach (var caller in decides ? Enum.GetValues<Caller>() : [Caller.Stranger])
                {
                    foreach (var body in MalformedBodies.All)
                    {
                        var path = HostileRoutes.Path(route, _ => values[n++ % values.Count]);
                        var headers = new List<(string, string)> { (HostileRequests.TestClient, caller == Caller.ThisMachine ? "127.0.0.1" : "203.0.113.7") };
                        if (caller == Caller.OperatorWithPassword)
                        {
                            headers.Add(("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Target.DashboardUser}:{Target.DashboardPassword}"))));
                        }

                        if (caller != Caller.Stranger)
                        {
                            // Past the dashboard's antiforgery check, to the code behind it.
                            headers.Add(("Cookie", surface.AntiforgeryCookie));
                            headers.Add(("RequestVerificationToken", surface.AntiforgeryField));
                        }

                        if (body.ContentType is not null)
                        {
                            headers.Add(("Content-Type", body.ContentType));
                        }

                        headers.AddRange(body.Headers);
                        var bytes = RawHttp.Build(method, path, headers, body.Bytes, chunked: body.Chunked, contentLength: body.DeclaredLength);
                        yield return new SweepRequest(route, method, path, caller, body, bytes);
                    }
                }
            }
        }
    }
}
