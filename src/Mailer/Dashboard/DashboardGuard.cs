using System.Globalization;
using System.Text.RegularExpressions;
using Mailer.Campaigns;
using Mailer.Signups;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Dashboard;

/// <summary>
/// Checks what an admitted caller sends to the dashboard before Hangfire sees it, where Hangfire would answer 500:
/// <list type="bullet">
/// <item>Its commands (the buttons that delete, requeue or trigger, and the statistics poll) read their form with
/// <c>ReadFormAsync</c> whatever the method, and fail on no body, a body that is no form, or a broken one. Here no body
/// becomes an empty form, a form is read (bounded) and handed on, and anything else gets 415 or 400.</item>
/// <item>With the jobs in PostgreSQL a job id is a number, and Hangfire's storage parses it without asking: a job page or
/// command for an id that is none gets 404, a batch command naming one 400.</item>
/// </list>
/// A caller the dashboard refuses goes on untouched and gets its 401 with nothing read.
/// </summary>
public static partial class DashboardGuard
{
    /// <summary>The largest dashboard form, in bytes: the ids of a page of 500 jobs are about 25 KB.</summary>
    public const int MaxFormBytes = 1024 * 1024;

    public static async Task CheckAsync(HttpContext context, RequestDelegate next)
    {
        var services = context.RequestServices;
        if (!services.GetRequiredService<DashboardAccess>().Authorize(context))
        {
            await next(context);
            return;
        }

        var numericIds = services.GetRequiredService<IOptions<HangfireOptions>>().Value.Storage == HangfireStorageKind.PostgreSql;
        var status = await ReadFormAsync(context) ?? (numericIds ? CheckJobIds(context.Request) : null);
        if (status is { } refusal)
        {
            context.Response.StatusCode = refusal;
            return;
        }

        await next(context);
    }

    /// <summary>Null when the form is read (or set empty), else the status to answer.</summary>
    private static async Task<int?> ReadFormAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is null or 0 && !request.Headers.ContainsKey("Transfer-Encoding"))
        {
            request.Form = FormCollection.Empty;
            return null;
        }

        if (!request.HasFormContentType)
        {
            return StatusCodes.Status415UnsupportedMediaType;
        }

        return await RequestBody.BufferAsync(request, MaxFormBytes, context.RequestAborted)
            ?? (await RequestBody.TryReadFormAsync(request, context.RequestAborted) is null ? StatusCodes.Status400BadRequest : null);
    }

    private static int? CheckJobIds(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (JobPath().Match(path) is { Success: true } match && !IsJobId(match.Groups["id"].Value.TrimEnd('/')))
        {
            return StatusCodes.Status404NotFound;
        }

        var batch = path.StartsWith("/hangfire/jobs/", StringComparison.OrdinalIgnoreCase);
        return batch && request.Form["jobs[]"].Any(id => !IsJobId(id)) ? StatusCodes.Status400BadRequest : null;
    }

    private static bool IsJobId(string? id) => long.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    [GeneratedRegex("^/hangfire/jobs/(details|actions/delete|actions/requeue)/(?<id>.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex JobPath();
}
