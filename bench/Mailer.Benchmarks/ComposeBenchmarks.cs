using BenchmarkDotNet.Attributes;
using Mailer.Delivery;
using Mailer.Links;
using Mailer.Rendering;
using Mailer.Subscribers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Mailer.Benchmarks;

/// <summary>
/// One personalized message, as the send job makes it: the links signed for the subscriber, the templates
/// rendered (subject, text, HTML), the MIME message built; and written out as the SMTP connection would. The
/// reference in the same run is the mail rendered in full by Scriban, with the ratio of each step to it.
/// </summary>
[MemoryDiagnoser]
public class ComposeBenchmarks
{
    private WebApplication _app = null!;
    private MailComposer _composer = null!;
    private LinkBuilder _links = null!;
    private TemplateRenderer _renderer = null!;
    private MessageFactory _factory = null!;
    private MailLinks _sampleLinks = null!;
    private RenderedMail _sampleMail = null!;
    private Recipient[] _recipients = null!;
    private DateTimeOffset _now;
    private int _next;

    [Params(Mailings.ReminderFinal, Mailings.Announcement)]
    public string Mailing { get; set; } = Mailings.ReminderFinal;

    [GlobalSetup]
    public void Setup()
    {
        _app = MailerServices.Build(Path.Combine(Path.GetTempPath(), "mailer-bench-compose"));
        _composer = _app.Services.GetRequiredService<MailComposer>();
        _links = _app.Services.GetRequiredService<LinkBuilder>();
        _renderer = _app.Services.GetRequiredService<TemplateRenderer>();
        _factory = _app.Services.GetRequiredService<MessageFactory>();
        _recipients = [.. Enumerable.Range(1, 1000).Select(i => new Recipient(
            i, $"person{i}@mail{i % 997}.example", i % 3 == 0 ? "en" : "de", i % 2 == 0 ? ["facebook", "instagram"] : ["instagram"]))];
        // The morning of the final day, in Berlin.
        _now = new DateTimeOffset(2024, 5, 26, 6, 0, 1, TimeSpan.Zero);
        _sampleLinks = _links.For(_recipients[0], withConfirm: false);
        _sampleMail = _renderer.Render(Mailing, _recipients[0], _sampleLinks, _now);
    }

    [GlobalCleanup]
    public void Cleanup() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private Recipient NextRecipient() => _recipients[_next++ % _recipients.Length];

    [Benchmark(Description = "links")]
    public MailLinks Links() => _links.For(NextRecipient(), withConfirm: false);

    /// <summary>The reference: the whole mail through Scriban for one subscriber, as every message was rendered before variants.</summary>
    [Benchmark(Baseline = true, Description = "render in full (Scriban, reference)")]
    public RenderedMail RenderInFull() => _renderer.RenderInFull(Mailing, _recipients[0].Locale, _recipients[0], _sampleLinks, _now);

    [Benchmark(Description = "render")]
    public RenderedMail Render() => _renderer.Render(Mailing, _recipients[0], _sampleLinks, _now);

    [Benchmark(Description = "MIME")]
    public ComposedMail Mime() => _factory.Create(Mailing, _recipients[0], _sampleMail, _sampleLinks);

    [Benchmark(Description = "render + MIME")]
    public ComposedMail Compose() => _composer.Compose(Mailing, NextRecipient(), _now);

    /// <summary>What a send does per message: composed, then written as bytes into a pooled buffer (8bit).</summary>
    [Benchmark(Description = "render + MIME + write")]
    public long ComposeAndWrite()
    {
        var message = _composer.Compose(Mailing, NextRecipient(), _now);
        using var buffer = new MailBuffer();
        message.WriteTo(buffer, eightBit: true);
        return buffer.Length;
    }
}

/// <summary>Counts what is written and keeps nothing, like a fast server.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => _length += count;

    public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
}
