using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailer.Tests.Reliability;

/// <summary>A request as bytes on the wire, so it can be as broken as an attacker likes.</summary>
/// <param name="Label">What kind of request it is, for a failure message.</param>
/// <param name="Path">The path it targets (decoded enough to tell the endpoint), for the assertions.</param>
/// <param name="MayBeCutOff">Large enough that the server may hang up before reading it all, so no answer is acceptable.</param>
internal sealed record RawRequest(string Label, string Path, byte[] Bytes, bool MayBeCutOff = false);

/// <summary>The answer: status (0 when the connection closed without one), headers and the body, de-chunked.</summary>
internal sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>HTTP/1.1 over a plain socket, one connection per request (<c>Connection: close</c>), nothing normalized.</summary>
internal static class RawHttp
{
    /// <summary>
    /// The bytes of a request. Header values are written as Latin-1, so a test can put any byte in them; a Host header
    /// and <c>Connection: close</c> are added unless given, and <c>Content-Length</c> unless the body is chunked.
    /// </summary>
    /// <param name="contentLength">Declared instead of the body's length: a body shorter or longer than it says.</param>
    public static byte[] Build(string method, string target, IEnumerable<(string Name, string Value)> headers, byte[]? body,
        string version = "HTTP/1.1", bool chunked = false, bool addHost = true, long? contentLength = null)
    {
        var list = headers.ToList();
        var head = new StringBuilder($"{method} {target} {version}\r\n");
        if (addHost && !list.Any(h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Host: localhost\r\n");
        }

        foreach (var (name, value) in list)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Connection: close\r\n");
        body ??= [];
        if (chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n");
        }
        else if (contentLength is { } declared)
        {
            head.Append("Content-Length: ").Append(declared).Append("\r\n");
        }
        else if (body.Length > 0 || method is "POST" or "PUT" or "PATCH")
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    public static async Task<RawResponse> SendAsync(IPEndPoint server, byte[] request, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, limit.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        // Read while writing: a server that answers early (413, 431) and hangs up must not lose its answer.
        var reading = ReadAnswerAsync(stream, request.AsSpan().StartsWith("HEAD "u8), limit.Token);
        try
        {
            await stream.WriteAsync(request, limit.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }

        return Parse(await reading);
    }

    /// <summary>
    /// The answer's bytes: until the server closes, or as soon as the whole answer is in (a server that answers before it
    /// has read a body, say one shorter than its Content-Length, may keep the connection open for the rest).
    /// </summary>
    private static async Task<byte[]> ReadAnswerAsync(NetworkStream stream, bool isHead, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
                if (IsComplete(received.GetBuffer().AsSpan(0, (int)received.Length), isHead))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // A reset or the timeout: keep what arrived.
        }

        return received.ToArray();
    }

    private static bool IsComplete(ReadOnlySpan<byte> data, bool isHead)
    {
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0 || !data.StartsWith("HTTP/1.1 "u8) || data.Length < 12 || data[9] == (byte)'1')
        {
            return false;    // not yet, or an interim 100 Continue: read on
        }

        var lines = Encoding.Latin1.GetString(data[..end]).Split("\r\n");
        var status = lines[0].Substring(9, 3);
        if (isHead || status is "204" or "304")
        {
            return true;
        }

        var body = data.Length - end - 4;
        var length = lines.Skip(1).Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
        if (length is not null)
        {
            return long.TryParse(length[1].Trim(), out var declared) && body >= declared;
        }

        return lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            && data.EndsWith("0\r\n\r\n"u8);
    }

    private static RawResponse Parse(byte[] data)
    {
        var end = data.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0 || !data.AsSpan().StartsWith("HTTP/1."u8) || data.Length < 12)
        {
            return new RawResponse(0, [], data);
        }

        var lines = Encoding.Latin1.GetString(data, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .Select(p => new KeyValuePair<string, string>(p[0].Trim(), p[1].Trim()))
            .ToList();
        var body = data[(end + 4)..];
        var response = new RawResponse(status, headers, body);
        return string.Equals(response.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase)
            ? response with { Body = Dechunk(body) }
            : response;
    }

    private static byte[] Dechunk(byte[] body)
    {
        var output = new MemoryStream();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = body.AsSpan(position).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }

            var sizeText = Encoding.ASCII.GetString(body, position, lineEnd).Split(';')[0];
            if (!int.TryParse(sizeText, System.Globalization.NumberStyles.HexNumber, null, out var size) || size == 0)
            {
                break;
            }

            position += lineEnd + 2;
            output.Write(body, position, Math.Min(size, body.Length - position));
            position += size + 2;
        }

        return output.ToArray();
    }
}
