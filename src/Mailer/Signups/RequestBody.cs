namespace Mailer.Signups;

/// <summary>
/// Reads a request body into memory up to a limit, whatever the server's own limits are, so the form and JSON
/// readers (and antiforgery) work on a bounded copy. Declared lengths over the limit are refused unread.
/// </summary>
public static class RequestBody
{
    /// <summary>
    /// Null when the body is buffered; otherwise the status to answer: 413 when it is larger than <paramref name="maxBytes"/>,
    /// or what Kestrel found wrong with its framing (400 for broken chunks, 408 for a body that stops coming).
    /// </summary>
    public static async Task<int?> BufferAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return StatusCodes.Status413PayloadTooLarge;
        }

        var buffer = new MemoryStream();
        request.HttpContext.Response.RegisterForDispose(buffer);
        var chunk = new byte[4096];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return StatusCodes.Status413PayloadTooLarge;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e)
        {
            // Thrown by the server's reader, not by a bug here: answered, not logged as an unhandled exception.
            return e.StatusCode;
        }

        buffer.Position = 0;
        request.Body = buffer;
        return null;
    }

    /// <summary>
    /// The form, or null when it cannot be read: malformed (a bad escape, a multipart body without its boundary), over
    /// the form reader's limits (value count, key length), in a charset it refuses (UTF-7), or a multipart body that ends
    /// before its closing boundary. Browsers send none of these. Call it on a body <see cref="BufferAsync"/> has read: the
    /// multipart reader reports a body that stops too early as an <see cref="IOException"/>, and in memory that can only
    /// mean the body itself is cut short.
    /// </summary>
    public static async Task<IFormCollection?> TryReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException)
        {
            return null;
        }
    }
}
