using Mailer.Subscribers;

namespace Mailer.Campaigns;

/// <summary>
/// Reads the form of a request to the dashboard before Hangfire does. Hangfire's commands (the buttons that delete,
/// requeue or trigger jobs, and the statistics poll) read their form with <c>ReadFormAsync</c> whatever the method, and
/// let what it throws become a 500: no body, a body that is no form, a broken form, a body cut short. Here, for a caller
/// the dashboard admits, no body becomes an empty form, a form is read (bounded) and handed on, and anything else is
/// refused with 415 or 400 before Hangfire sees it. A caller it refuses goes on untouched and gets its 401 unread.
/// </summary>
public static class DashboardForms
{
    /// <summary>The largest dashboard form, in bytes: the ids of a page of 500 jobs are about 25 KB.</summary>
    public const int MaxFormBytes = 1024 * 1024;

    public static async Task ReadFirstAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!context.RequestServices.GetRequiredService<DashboardAccess>().Authorize(context))
        {
            await next(context);
            return;
        }

        if (request.ContentLength is null or 0 && !request.Headers.ContainsKey("Transfer-Encoding"))
        {
            request.Form = FormCollection.Empty;
        }
        else if (!request.HasFormContentType)
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        else if (await RequestBody.BufferAsync(request, MaxFormBytes, context.RequestAborted) is { } refusal)
        {
            context.Response.StatusCode = refusal;
            return;
        }
        else if (await RequestBody.TryReadFormAsync(request, context.RequestAborted) is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        await next(context);
    }
}
