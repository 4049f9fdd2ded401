using Microsoft.AspNetCore.Mvc;

namespace Mailer.Storage;

/// <summary>
/// A request that meets the store gone for a while (<see cref="StoreOutage"/>: PostgreSQL restarting, SQLite's disk
/// full) is answered <c>503</c> with <c>Retry-After</c> and an RFC 7807 problem, not <c>500</c>: the client may send the
/// same request again later. Nothing of it was stored: each write is one transaction, rolled back whole.
/// </summary>
internal sealed class StoreUnavailableAnswer(RequestDelegate next, IProblemDetailsService problems, ILogger<StoreUnavailableAnswer> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (StoreOutage.Is(e) && !context.Response.HasStarted)
        {
            // The route's pattern, not the path: a path may carry a subscriber's token.
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            StorageLog.StoreUnavailable(logger, context.Request.Method, route, e.GetType().Name, StoreOutage.Describe(e));
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = ((int)StoreOutage.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "The service cannot store anything right now.",
                    Detail = $"Nothing was stored. Please try again in {(int)StoreOutage.RetryAfter.TotalSeconds} seconds.",
                },
            });
        }
    }
}
