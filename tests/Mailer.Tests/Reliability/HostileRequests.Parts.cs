using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Mailer.Links;
using Mailer.Signups;
using Mailer.Subscribers;

namespace Mailer.Tests.Reliability;

/// <summary>The hostile values the generator combines, and how it builds tokens, bodies, headers and requests from them.</summary>
internal sealed partial class HostileRequests
{
    private static readonly string[] Evil =
    [
        $"<{Marker}>", $"\"><{Marker} a=\"", $"'><{Marker}>", $"</title><{Marker}>", "javascript:alert(1)", "//evil.example",
        "%2F%2Fevil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "\r\nSet-Cookie: owned=1",
        "\r\nBcc: victim@evil.example", "%0d%0aLocation:%20//evil.example", "{{ 7 * 7 }}", "{{ include 'layout' }}", "${7*7}",
        "../../../../etc/passwd", "..%2f..%2f", "\0", "\u202e", "\ufeff", "😀", "' OR '1'='1", "'; DROP TABLE subscribers; --",
        "=?utf-8?b?PHgtaW5qZWN0ZWQ+?=", $"\" data-{Marker}=\"1", "%ff%fe", "\u00e4\u00f6\u00fc", "A", "",
    ];

    private static readonly string[] Platforms =
    [
        "facebook", "instagram", "FaceBook", "tiktok", "%2F%2Fevil.example", "..", "%2e%2e", "facebook%00", "face%62ook",
        "facebook%2F..%2F..%2Fhangfire", "https%3A%2F%2Fevil.example", "evil.example", "%5Cevil.example", new string('a', 300),
        "%C0%AF", "%FF", $"%3C{Marker}%3E", "facebook%0d%0aLocation:%20%2F%2Fevil.example",
    ];

    private static readonly string[] Queries =
    [
        "", "", "", "?returnUrl=//evil.example", "?next=%2F%2Fevil.example", "?redirect=https://evil.example", "?url=/\\evil.example",
        $"?lang=%3C{Marker}%3E", "?lang=en", "?lang=de&lang=en", "?ReturnUrl=%2F%2Fevil.example%2F", "?%zz=1", "?a=" + new string('q', 4000),
        "?x=%ff%fe", "?redirect_uri=%2F%2Fevil.example&continue=//evil.example",
    ];

    private static readonly string[] OddMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "get", "FOO"];

    /// <summary>A token for an endpoint of <paramref name="purpose"/> that may not change anything there.</summary>
    private string TokenFor(TokenPurpose purpose)
    {
        var roll = random.Next(10);
        if (roll < 2 && surface.HarmlessWhenValid[purpose].Count > 0)
        {
            return Pick(surface.HarmlessWhenValid[purpose]);    // a replay, an unsubscribed or erased subscriber's own link
        }

        if (roll < 4)
        {
            return Pick(surface.Valid.Where(t => t.Purpose != purpose).Select(t => t.Token).ToList());    // another purpose
        }

        if (roll < 6)
        {
            return Pick(surface.Forged);    // expired, or moved to another subscriber
        }

        // Mutations start from tokens that cannot act here even if a mutation were accepted as the same token.
        var basis = Pick(surface.Valid.Where(t => t.Purpose != purpose || surface.HarmlessWhenValid[purpose].Contains(t.Token)).ToList()).Token;
        return random.Next(8) switch
        {
            0 => basis[..random.Next(basis.Length)],
            1 => basis + Pick(["A", "=", "%3D", ".", "..", "%2E", "/x"]),
            2 => Flip(basis),
            3 => basis.Replace('-', '+').Replace('_', '/'),
            4 => Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{(int)purpose}.{random.Next(1, 5)}.0")) + "." + Base64Url.EncodeToString(new byte[16]),
            5 => Uri.EscapeDataString(Pick(Evil)),
            6 => new string('A', random.Next(150, 260)),
            _ => Uri.EscapeDataString(basis.ToUpperInvariant()),
        };
    }

    /// <summary>A JSON signup that is never valid: its address is always wrong (or of the wrong type, or missing).</summary>
    private string JsonBody()
    {
        var parts = new List<string>();
        switch (random.Next(6))
        {
            case 0:
                parts.Add($"\"email\":{Pick(["5", "null", "true", "{\"$ne\":null}", "[\"anna@example.de\"]", "\"\\ud800@example.de\"", "1e999999"])}");
                break;
            case 1:
                parts.Add($"\"{Pick(["EMAIL", "e-mail", "mail", "email\\u0000", "\\ud800", "emai\\u006c2"])}\":\"anna@example.de\"");
                break;
            default:
                parts.Add($"\"email\":{JsonString(InvalidEmail())}");
                break;
        }

        if (random.Next(4) != 0)
        {
            parts.Add($"\"platforms\":{Pick(["[\"facebook\"]", "[\"facebook\",\"instagram\"]", "\"facebook\"", "[1,2]", "[[\"facebook\"]]", "null", "[]",
                $"[{JsonString(Pick(Evil))}]", "[" + string.Join(",", Enumerable.Repeat("\"facebook\"", 1000)) + "]"])}");
        }

        if (random.Next(2) == 0)
        {
            parts.Add($"\"locale\":{Pick(["\"de\"", "\"en\"", JsonString(Pick(Evil)), "[\"de\"]", "\"\\ud800\""])}");
        }

        if (random.Next(5) == 0)
        {
            parts.Add(Pick(["\"status\":\"confirmed\"", "\"id\":1", "\"__proto__\":{\"admin\":true}", "\"email\":" + JsonString(InvalidEmail()),
                $"{JsonString(Pick(Evil))}:1", "\"deep\":" + new string('[', 20) + new string(']', 20)]));
        }

        var json = "{" + string.Join(",", parts.OrderBy(_ => random.Next())) + "}";
        return random.Next(12) switch
        {
            0 => "[" + json + "]",
            1 => json[..random.Next(json.Length)],
            2 => "\ufeff" + json,
            3 => json + json,
            _ => json,
        };
    }

    /// <summary>The body's bytes, sometimes broken: invalid or overlong UTF-8, a NUL, UTF-16.</summary>
    private byte[] Corrupt(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        switch (random.Next(6))
        {
            case 0:
                var at = random.Next(bytes.Length + 1);
                byte[] bad = Pick<byte[]>([[0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x00], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
                return [.. bytes[..at], .. bad, .. bytes[at..]];
            case 1:
                return Encoding.Unicode.GetBytes(text);
            default:
                return bytes;
        }
    }

    private byte[] FormBody(List<(string Key, string Value)> fields)
    {
        var encoded = string.Join("&", fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));
        return random.Next(8) switch
        {
            0 => Encoding.UTF8.GetBytes(encoded + "&" + string.Join("&", Enumerable.Repeat("a", random.Next(1000, 5000)))),
            1 => Encoding.UTF8.GetBytes(encoded + "&" + new string('k', 3000) + "=v"),
            2 => Encoding.UTF8.GetBytes(encoded + Pick(["&%", "&%zz=1", "&%C0%AF=1", "&a=%00", "&=", "&&&", "&email"])),
            3 => [.. Encoding.UTF8.GetBytes(encoded + "&x="), 0xff, 0xfe, 0xc0, 0xaf],
            _ => Encoding.UTF8.GetBytes(encoded),
        };
    }

    private string InvalidEmail()
    {
        var email = Pick([
            "anna@example.de\r\nBcc: victim@evil.example", "anna@example.de\nTo: victim@evil.example", "anna@example.de%0d%0abcc:victim@evil.example",
            $"\"<{Marker}>\"@example.de", $"<{Marker}>@example.de", $"anna@<{Marker}>.de", "anna@example.de>", "victim@evil.example, anna@example.de",
            "anna@example.de;victim@evil.example", "anna(comment)@example.de", "anna@[127.0.0.1]", "anna@localhost", "anna@@example.de", "@example.de",
            "anna@", "anna@example..de", ".anna@example.de", "jürgen@example.de", "anna\0@example.de", "anna@exam\0ple.de", "anna@example.de\u202e",
            new string('a', 65) + "@example.de", "a@" + string.Join('.', Enumerable.Repeat(new string('b', 63), 5)) + ".de",
            $"=?utf-8?b?PHg+?=@example.de<{Marker}>", "{{ 7*7 }}@example.de", Pick(Evil) + "@example.de", "anna@" + Pick(Evil) + ".de",
            new string('x', 2000),
        ]);
        return EmailAddress.Normalize(email, out _) == EmailProblem.None ? email + $" <{Marker}>" : email;
    }

    private List<(string, string)> HostileHeaders(int percent)
    {
        var headers = new List<(string, string)> { (TestClient, ClientIp()) };
        if (random.Next(100) < percent)
        {
            headers.Add(HostileHeader());
        }

        return headers;
    }

    private (string, string) HostileHeader() => Pick([
        ("Host", "evil.example"), ("Host", "localhost:99999"), ("Host", "[::1"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-For", "127.0.0.1"),
        ("X-Forwarded-Proto", "https"), ("X-Real-IP", "127.0.0.1"), ("Forwarded", "for=127.0.0.1;host=evil.example"), ("X-Original-URL", "/hangfire"),
        ("X-Rewrite-URL", "/hangfire"), ("X-HTTP-Method-Override", "DELETE"), ("Accept-Language", "de;q=abc, *;q=2, ;;;, en-<x>"),
        ("Accept-Language", new string('d', 5000)), ("Accept-Language", "\u00ff\u00fe"), ("Accept", "text/html;q=\"\""), ("Accept-Charset", "utf-7"),
        ("Cookie", "mailer-antiforgery=garbage"), ("Cookie", "mailer-antiforgery=" + new string('z', 6000)), ("Cookie", "a=\u00ff\u00fe; ;;=;"),
        ("Authorization", "Basic !!!"), ("Referer", "//evil.example"), ("Origin", "https://evil.example"), ("User-Agent", $"<{Marker}>" + new string('u', 2000)),
        ("User-Agent", "\u00c3\u00a4"), ("Content-Encoding", "gzip"), ("Expect", "100-continue"), ("Range", "bytes=0-0,-1"), ("If-None-Match", "*"),
        ("X-Header\u00ff", "x"), ("Bad Header", "x"), ("X-Folded", "a\r\n folded"), ("Transfer-Encoding", "chunked, identity"),
    ]);

    private RawRequest Post(string target, string label, string contentType, byte[] body, List<(string, string)> headers, bool cutOff = false)
    {
        if (!headers.Any(h => h.Item1 == TestClient))
        {
            headers.Add((TestClient, ClientIp()));
        }

        if (contentType.Length > 0)
        {
            headers.Add(("Content-Type", contentType));
        }

        return new RawRequest(label, PathOf(target), RawHttp.Build("POST", target, headers, body), cutOff || body.Length > 100_000);
    }

    private RawRequest Request(string method, string target, string label, List<(string, string)> headers, byte[]? body, bool cutOff = false)
    {
        if (!headers.Any(h => h.Item1 == TestClient))
        {
            headers.Add((TestClient, ClientIp()));
        }

        return new RawRequest(label, PathOf(target), RawHttp.Build(method, target, headers, body), cutOff);
    }

    /// <summary>The request comes from this (non-local) address; the test's middleware sets it, as a proxy's would be.</summary>
    public const string TestClient = "X-Test-Client";

    private string ClientIp() => random.Next(3) switch
    {
        0 => $"203.0.113.{random.Next(1, 255)}",
        1 => $"198.51.100.{random.Next(1, 255)}",
        _ => $"2001:db8:{random.Next(1, 9)}::{random.Next(1, 999)}",
    };

    private static string PathOf(string target) => Uri.UnescapeDataString(target.Split('?')[0]);

    private static byte[] Chunks(string text) => Encoding.ASCII.GetBytes($"{text.Length:x}\r\n{text}\r\nzz\r\nbroken\r\n0\r\n\r\n");

    private static string JsonString(string value) => JsonSerializer.Serialize(value);

    private string Flip(string token)
    {
        var i = random.Next(token.Length);
        return token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
