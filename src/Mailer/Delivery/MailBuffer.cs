using System.Buffers;
using System.Text;

namespace Mailer.Delivery;

/// <summary>
/// A message as bytes, in a buffer rented from the shared pool: a send writes each message into one of these instead of
/// building MimeKit's tree, and gives it back once the server answered. Grows by renting a larger array.
/// </summary>
internal sealed class MailBuffer : IDisposable
{
    private byte[] _bytes;

    public MailBuffer(int capacity = 16 * 1024) => _bytes = ArrayPool<byte>.Shared.Rent(capacity);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _bytes.AsMemory(0, Length);

    public void Clear() => Length = 0;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
    }

    public void Append(byte value)
    {
        Reserve(1)[0] = value;
        Length++;
    }

    /// <summary>Text as UTF-8, as it is (the caller knows it holds no bare line feed).</summary>
    public void AppendUtf8(string text)
    {
        var span = Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
        Length += Encoding.UTF8.GetBytes(text, span);
    }

    /// <summary>Text as UTF-8 with every line feed that no carriage return precedes written as CRLF, as MimeKit's DOS filter does.</summary>
    public void AppendUtf8Crlf(string text)
    {
        var rest = text.AsSpan();
        var previousCr = false;
        while (rest.Length > 0)
        {
            var lf = rest.IndexOf('\n');
            var line = lf < 0 ? rest : rest[..lf];
            var span = Reserve(Encoding.UTF8.GetMaxByteCount(line.Length) + 2);
            var written = Encoding.UTF8.GetBytes(line, span);
            if (lf < 0)
            {
                Length += written;
                return;
            }

            var crBefore = line.Length > 0 ? line[^1] == '\r' : previousCr;
            if (!crBefore)
            {
                span[written++] = (byte)'\r';
            }

            span[written++] = (byte)'\n';
            Length += written;
            previousCr = false;
            rest = rest[(lf + 1)..];
        }
    }

    /// <summary>Bytes with every line feed that no carriage return precedes written as CRLF.</summary>
    public void AppendCrlf(ReadOnlySpan<byte> bytes)
    {
        var previous = Length > 0 ? _bytes[Length - 1] : (byte)0;
        while (bytes.Length > 0)
        {
            var lf = bytes.IndexOf((byte)'\n');
            var line = lf < 0 ? bytes : bytes[..lf];
            Append(line);
            if (lf < 0)
            {
                return;
            }

            if ((line.Length > 0 ? line[^1] : previous) != (byte)'\r')
            {
                Append((byte)'\r');
            }

            Append((byte)'\n');
            previous = (byte)'\n';
            bytes = bytes[(lf + 1)..];
        }
    }

    /// <summary>Writes the bytes of [start, Length) again from <paramref name="start"/> after <paramref name="bytes"/>: an insertion.</summary>
    public void Insert(int start, ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        _bytes.AsSpan(start, Length - start).CopyTo(_bytes.AsSpan(start + bytes.Length));
        bytes.CopyTo(_bytes.AsSpan(start));
        Length += bytes.Length;
    }

    public void Dispose()
    {
        var bytes = _bytes;
        _bytes = [];
        Length = 0;
        if (bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_bytes.Length * 2, Length + count));
            _bytes.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = larger;
        }

        return _bytes.AsSpan(Length);
    }
}
