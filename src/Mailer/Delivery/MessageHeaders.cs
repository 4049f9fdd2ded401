using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using MimeKit;
using MimeKit.Encodings;

namespace Mailer.Delivery;

/// <summary>
/// The pieces of a message that <see cref="MessageFactory"/> has MimeKit format once (sender, list and part headers,
/// each subject) and the few it writes itself per message (boundary, quoted-printable for a 7-bit channel).
/// </summary>
internal static class MessageHeaders
{
    private static readonly FormatOptions Dos = CreateDos();

    // atext and the dot (RFC 5322, 3.2.3) and the @: an address of these MimeKit writes as it is, on one line.
    private static readonly SearchValues<char> PlainAddress =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.@");

    /// <summary>The header fields that <paramref name="fill"/> sets on an empty message, as MimeKit writes them (CRLF).</summary>
    public static byte[] Format(Action<MimeMessage> fill)
    {
        var message = new MimeMessage((IEnumerable<Header>)[]);
        fill(message);
        using var stream = new MemoryStream();
        message.Headers.WriteTo(Dos, stream);
        return WithoutBlankLine(stream);
    }

    /// <summary>The header of a UTF-8 text part (<c>Content-Type</c>, <c>Content-Transfer-Encoding</c>), without the blank line.</summary>
    public static byte[] PartHeader(string subtype, ContentEncoding encoding)
    {
        var part = new TextPart(subtype) { ContentTransferEncoding = encoding };
        part.ContentType.Charset = "utf-8";
        using var stream = new MemoryStream();
        part.Headers.WriteTo(Dos, stream);
        return WithoutBlankLine(stream);
    }

    /// <summary>Whether MimeKit would write the address as it is: ASCII atext, one @, short enough for one line.</summary>
    public static bool IsPlain(string email) => email.Length <= 200 && !email.AsSpan().ContainsAnyExcept(PlainAddress);

    /// <summary>A MIME boundary as MimeKit makes them: <c>=-</c> and 16 random bytes in base64.</summary>
    public static string NewBoundary()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return "=-" + Convert.ToBase64String(random);
    }

    /// <summary>The text in UTF-8 with CRLF line ends, quoted-printable by MimeKit's encoder (76 octets a line).</summary>
    public static void AppendQuotedPrintable(MailBuffer buffer, string text)
    {
        using var plain = new MailBuffer(Encoding.UTF8.GetMaxByteCount(text.Length) + 64);
        plain.AppendUtf8Crlf(text);

        var encoder = new QuotedPrintableEncoder();
        var input = plain.Written.ToArray();
        var output = ArrayPool<byte>.Shared.Rent(encoder.EstimateOutputLength(input.Length));
        try
        {
            var length = encoder.Flush(input, 0, input.Length, output);
            buffer.AppendCrlf(output.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>MimeKit ends a header list with the blank line; the fields alone are wanted here.</summary>
    private static byte[] WithoutBlankLine(MemoryStream stream)
    {
        var bytes = stream.ToArray();
        return bytes.AsSpan().EndsWith("\r\n\r\n"u8) ? bytes[..^2] : bytes;
    }

    private static FormatOptions CreateDos()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
