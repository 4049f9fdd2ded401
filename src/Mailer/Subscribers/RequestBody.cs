namespace Mailer.Subscribers;

/// <summary>
/// Reads a request body into memory up to a limit, whatever the server's own limits are, so the form and JSON
/// readers (and antiforgery) work on a bounded copy. Declared lengths over the limit are refused unread.
/// </summary>
public static class RequestBody
{
    /// <summary>False when the body is larger than <paramref name="maxBytes"/>: answer 413.</summary>
    public static async Task<bool> TryBufferAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return false;
        }

        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return false;
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        request.Body = buffer;
        request.HttpContext.Response.RegisterForDispose(buffer);
        return true;
    }

    /// <summary>
    /// The form, or null when it cannot be read: malformed (a bad escape, a multipart body without its boundary), over
    /// the form reader's limits (value count, key length), or in a charset it refuses (UTF-7). Browsers send none of these.
    /// </summary>
    public static async Task<IFormCollection?> TryReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            return null;
        }
    }
}
