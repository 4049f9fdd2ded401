namespace Mailer.Delivery.Dkim;

/// <summary>
/// DKIM's relaxed canonicalisation (RFC 6376, 3.4.2 and 3.4.4) over a message's own bytes: what the body hash and the
/// signed headers are computed over. The message is written with CRLF line ends only, so a line is what ends in CRLF.
/// </summary>
internal static class DkimCanonical
{
    /// <summary>
    /// The body relaxed: runs of space and tab within a line become one space, white space at a line's end goes, and
    /// the empty lines at the end go (a body that is not empty ends in one CRLF).
    /// </summary>
    public static void Body(ReadOnlySpan<byte> body, MailBuffer output)
    {
        var emptyLines = 0;
        while (body.Length > 0)
        {
            var end = body.IndexOf("\r\n"u8);
            var line = end < 0 ? body : body[..end];
            body = end < 0 ? [] : body[(end + 2)..];
            line = line.TrimEnd(" \t"u8);
            if (line.IsEmpty)
            {
                emptyLines++;
                continue;
            }

            for (; emptyLines > 0; emptyLines--)
            {
                output.Append("\r\n"u8);
            }

            AppendCollapsed(line, output);
            output.Append("\r\n"u8);
        }
    }

    /// <summary>One header field relaxed: the name in lower case, the value unfolded, its white space runs one space, trimmed; then CRLF unless <paramref name="last"/>.</summary>
    public static void Header(ReadOnlySpan<byte> field, MailBuffer output, bool last = false)
    {
        var colon = field.IndexOf((byte)':');
        var name = field[..colon].TrimEnd(" \t"u8);
        foreach (var b in name)
        {
            output.Append(b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b);
        }

        output.Append((byte)':');
        var value = field[(colon + 1)..];
        if (value.EndsWith("\r\n"u8))
        {
            value = value[..^2];
        }

        // Unfolding removes the CRLFs; the white space after each is collapsed with the rest.
        var pendingSpace = false;
        var started = false;
        while (value.Length > 0)
        {
            var run = value.IndexOfAny(" \t\r\n"u8);
            var text = run < 0 ? value : value[..run];
            if (!text.IsEmpty)
            {
                if (pendingSpace && started)
                {
                    output.Append((byte)' ');
                }

                output.Append(text);
                started = true;
                pendingSpace = false;
            }

            if (run < 0)
            {
                break;
            }

            var white = value[run..];
            var length = white.IndexOfAnyExcept(" \t\r\n"u8);
            length = length < 0 ? white.Length : length;
            pendingSpace |= white[..length].IndexOfAny(" \t"u8) >= 0;
            value = white[length..];
        }

        if (!last)
        {
            output.Append("\r\n"u8);
        }
    }

    private static void AppendCollapsed(ReadOnlySpan<byte> line, MailBuffer output)
    {
        while (line.Length > 0)
        {
            var white = line.IndexOfAny(" \t"u8);
            if (white < 0)
            {
                output.Append(line);
                return;
            }

            output.Append(line[..white]);
            output.Append((byte)' ');
            var after = line[white..].IndexOfAnyExcept(" \t"u8);
            line = after < 0 ? [] : line[(white + after)..];
        }
    }
}
