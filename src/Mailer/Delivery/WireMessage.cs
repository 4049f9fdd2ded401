using MailKit.Net.Smtp;
using MimeKit;

namespace Mailer.Delivery;

/// <summary>
/// A message already written as bytes, in the shape MailKit's <see cref="SmtpClient"/> sends: MailKit takes only
/// a <see cref="MimeMessage"/>, so this one holds the whole header block as the raw value of its first field and a
/// body that writes the rest as it is. Nothing is parsed, prepared or encoded again on the way out.
/// </summary>
internal sealed class WireMessage : MimeMessage
{
    private WireMessage(Header first, WireBody body)
        : base([first])
    {
        Body = body;
        Size = body.Size + first.RawField.Length + 1 + first.RawValue.Length + 2;
    }

    /// <summary>The message's length in octets, as MailKit announces it (<c>SIZE=</c>, <c>BDAT</c>).</summary>
    public long Size { get; }

    /// <summary>
    /// The message in <paramref name="bytes"/> (CRLF line ends; its header block of <paramref name="headerLength"/>
    /// octets, blank line included). <paramref name="eightBit"/>: a part travels as 8bit, so MAIL FROM says BODY=8BITMIME.
    /// </summary>
    public static WireMessage Create(ReadOnlyMemory<byte> bytes, int headerLength, bool eightBit)
    {
        var span = bytes.Span;
        var colon = span.IndexOf((byte)':');
        var field = System.Text.Encoding.ASCII.GetString(span[..colon]);
        // The rest of the first field and every other field, without the blank line that MimeKit writes after them.
        var first = new Header(field, "-");
        first.SetRawValue(span[(colon + 1)..(headerLength - 2)].ToArray());
        return new WireMessage(first, new WireBody(bytes[headerLength..], eightBit));
    }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        // Written for its channel already (and perhaps signed over these very bytes).
    }

    /// <summary>The body's bytes. A multipart only so that MailKit finds an 8bit part in it when there is one.</summary>
    private sealed class WireBody : Multipart
    {
        private static readonly TextPart EightBitMarker = new("plain") { ContentTransferEncoding = ContentEncoding.EightBit };

        private readonly ReadOnlyMemory<byte> _bytes;

        public WireBody(ReadOnlyMemory<byte> bytes, bool eightBit)
        {
            _bytes = bytes;
            // No header of its own: they are all in the message's header block already.
            Headers.Clear();
            if (eightBit)
            {
                Add(EightBitMarker);
            }
        }

        public long Size => _bytes.Length;

        public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
        {
        }

        public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) =>
            stream.Write(_bytes.Span);

        public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) =>
            stream.WriteAsync(_bytes, cancellationToken).AsTask();
    }
}

/// <summary>
/// MailKit's client for <see cref="WireMessage"/>s: nothing to prepare, the size known, and <c>BDAT</c> where the
/// server offers CHUNKING, so a message costs two round trips (MAIL FROM and RCPT TO pipelined, then the data)
/// instead of three with <c>DATA</c>, and no dot-stuffing pass over its bytes.
/// </summary>
internal sealed class WireSmtpClient : SmtpClient
{
    protected override bool PreferSendAsBinaryData => true;

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        // As MailKit does for a signed message: no header re-encoded as raw UTF-8.
        options.International = false;
    }

    protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message is WireMessage wire ? wire.Size : base.GetSize(options, message, cancellationToken);
}
