using System.Text;
using System.Text.Json;
using Mailer.Links;
using Mailer.Subscribers;

namespace Mailer.Tests.Reliability;

/// <summary>A token the generator may use on an endpoint, and whom it belongs to.</summary>
internal sealed record IssuedToken(TokenPurpose Purpose, string Owner, string Token);

/// <summary>
/// What the generator knows of the application under attack: tokens that act on nobody when used (replays, an
/// unsubscribed or erased subscriber's links), tokens that must not act at all (other purposes, expired, moved to
/// another subscriber), a valid antiforgery pair to get past that check, and addresses to send from.
/// </summary>
internal sealed record AttackSurface(
    IReadOnlyDictionary<TokenPurpose, IReadOnlyList<string>> HarmlessWhenValid,
    IReadOnlyList<IssuedToken> Valid,
    IReadOnlyList<string> Forged,
    string AntiforgeryCookie,
    string AntiforgeryField);

/// <summary>
/// Malformed and hostile requests against every endpoint, from a seeded <see cref="Random"/>: each is built so that
/// the application must refuse it or treat it as a no-op (an invalid signup, a token that cannot act); none is a
/// valid signup or a link that may change anything.
/// </summary>
internal sealed partial class HostileRequests(Random random, AttackSurface surface)
{
    public const string Marker = "x-injected";

    public RawRequest Next()
    {
        var roll = random.Next(100);
        return roll switch
        {
            < 20 => JsonSignup(),
            < 30 => FormSignup(),
            < 35 => OddContentSignup(),
            < 65 => Link(),
            < 75 => PathTrick(),
            < 85 => Dashboard(),
            < 95 => WithHostileHeaders(),
            < 98 => Huge(),
            _ => BrokenRequestLine(),
        };
    }

    private RawRequest JsonSignup()
    {
        var body = JsonBody();
        var contentType = Pick(["application/json", "application/json; charset=utf-8", "application/json; charset=\"", "application/json; charset=utf-16",
            "application/problem+json", "text/json", "application/json; charset=nonsense"]);
        return Post("/subscribe", "json signup", contentType, Corrupt(body), HostileHeaders(20));
    }

    private RawRequest FormSignup()
    {
        // A filled honeypot looks accepted and stores nothing, even with a good address; everywhere else the address is
        // wrong. The signup takes no antiforgery token; some carry a valid pair anyway, which changes nothing.
        var withAntiforgery = random.Next(2) == 0;
        var honeypot = random.Next(6) == 0;
        var fields = new List<(string, string)> { ("email", honeypot && random.Next(2) == 0 ? "anna@example.de" : InvalidEmail()) };
        if (honeypot)
        {
            fields.Add(("website", Pick(Evil) + "x"));
        }

        foreach (var _ in Enumerable.Range(0, random.Next(4)))
        {
            fields.Add((Pick(["platforms", "locale", "email", "website", "returnUrl", Pick(Evil)]), Pick(Evil) + Pick(Platforms)));
        }

        var headers = HostileHeaders(20);
        if (withAntiforgery)
        {
            fields.Add(("__RequestVerificationToken", surface.AntiforgeryField));
            headers.Add(("Cookie", surface.AntiforgeryCookie));
        }

        return Post("/subscribe", "form signup", Pick(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-7",
            "application/x-www-form-urlencoded; charset=nonsense", "application/x-www-form-urlencoded; charset=\""]), FormBody(fields), headers);
    }

    private RawRequest OddContentSignup()
    {
        var boundary = Pick(["XyZ", "", new string('b', 100), "\"quoted\"", "a b"]);
        var multipart = Encoding.UTF8.GetBytes(Pick([
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{InvalidEmail()}\r\n--{boundary}--\r\n",
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{InvalidEmail()}\r\n",
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"../../x.sh\"\r\nContent-Type: text/x-sh\r\n\r\n{new string('x', 5000)}\r\n--{boundary}--\r\n",
            $"--{boundary}\r\n\r\nno headers\r\n--{boundary}--\r\n",
            "garbage without boundaries",
        ]));
        var (contentType, body) = random.Next(3) switch
        {
            0 => ($"multipart/form-data; boundary={boundary}", multipart),
            1 => (Pick(["multipart/form-data", "multipart/mixed; boundary=XyZ", "multipart/form-data; boundary=XyZ; charset=utf-7"]), multipart),
            _ => (Pick(["text/plain", "application/xml", "", "*/*", "application/*", "application/json\u00ff", "text/html; charset=utf-8",
                "application/octet-stream"]), Corrupt(JsonBody())),
        };
        return Post("/subscribe", "odd content signup", contentType, body, HostileHeaders(20));
    }

    private RawRequest Link()
    {
        var (verb, purpose, method) = Pick([("confirm", TokenPurpose.Confirm, "GET"), ("unsubscribe", TokenPurpose.Unsubscribe, "GET"),
            ("unsubscribe", TokenPurpose.Unsubscribe, "POST"), ("go", TokenPurpose.Click, "GET"), ("done", TokenPurpose.Done, "GET"),
            ("done", TokenPurpose.Done, "POST")]);
        var token = TokenFor(purpose);
        var path = purpose is TokenPurpose.Click or TokenPurpose.Done ? $"/{verb}/{token}/{Pick(Platforms)}" : $"/{verb}/{token}";
        if (random.Next(10) == 0)
        {
            path = Pick([path + "/", path + "/extra", path.Replace("/", "//", StringComparison.Ordinal), path + "%2F..%2F..%2Fhangfire", path.ToUpperInvariant(), path + ";x=1"]);
        }

        method = random.Next(8) == 0 ? Pick(OddMethods) : method;
        var headers = HostileHeaders(25);
        if (method != "POST")
        {
            return Request(method, path + Pick(Queries), $"{verb} link", headers, null);
        }

        var fields = new List<(string, string)>();
        if (random.Next(2) == 0)
        {
            fields.Add(("List-Unsubscribe", Pick(["One-Click", "one-click", "One-Click\r\n", Pick(Evil)])));
        }

        if (random.Next(2) == 0)
        {
            fields.Add(("__RequestVerificationToken", surface.AntiforgeryField));
            headers.Add(("Cookie", surface.AntiforgeryCookie));
        }

        fields.AddRange(Enumerable.Range(0, random.Next(3)).Select(_ => (Pick(Evil), Pick(Evil))));
        var contentType = Pick(["application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ", "application/json", "", "text/plain",
            "multipart/form-data"]);
        var body = contentType.StartsWith("multipart", StringComparison.Ordinal)
            ? Encoding.UTF8.GetBytes(string.Concat(fields.Select(f => $"--XyZ\r\nContent-Disposition: form-data; name=\"{f.Item1}\"\r\n\r\n{f.Item2}\r\n")) + "--XyZ--\r\n")
            : FormBody(fields);
        return Post(path + Pick(Queries), $"{verb} link post", contentType, body, headers);
    }

    private RawRequest PathTrick()
    {
        var target = Pick([
            "//evil.example", "//evil.example/", "/%2F%2Fevil.example", "/\\evil.example", "/%5C%5Cevil.example", "/%5cevil.example",
            "/go//evil.example", "/go/%2F%2Fevil.example/facebook", "/confirm/..%2F..%2Fhangfire", "/confirm/../hangfire", "/./hangfire",
            "/hangfire%2f..%2f", "/subscribe%00", "/subscribe/", "/SUBSCRIBE", "/.env", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
            "/%c0%af", "/%ff", "/favicon.ico", "/openapi/v1.json", "/openapi/../hangfire", "/healthz", "/healthz?detail=%3Cscript%3E",
            "/go", "/confirm", "/confirm/", "/done//facebook", "/unsubscribe/%00", "/index.html", "/?lang=%3Cx-injected%3E", "/" + new string('a', 2000),
            "/;jsessionid=1", "/#fragment", "/%", "/%%32%65", "/" + Uri.EscapeDataString(Pick(Evil)),
        ]) + Pick(Queries);
        return Request(random.Next(4) == 0 ? Pick(OddMethods) : "GET", target, "path trick", HostileHeaders(25), null);
    }

    private RawRequest Dashboard()
    {
        var path = Pick(["/hangfire", "/hangfire/", "/HANGFIRE", "/hangfire/jobs/enqueued", "/hangfire/recurring", "/hangfire/servers", "/hangfire/stats",
            "/hangfire/recurring/trigger", "/hangfire/jobs/enqueued/delete", "/hangfire/js18251", "/hangfire/css18251", "/Hangfire/jobs/details/1",
            "/hangfire/../hangfire", "/hangfire%2Fjobs", "/hangfire/retries", "/hangfire/jobs/failed/requeue"]);
        var headers = new List<(string, string)>();
        headers.AddRange(Pick<(string, string)[]>([
            [],
            [("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:wrong")))],
            [("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:admin")))],
            [("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator")))],
            [("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(":")))],
            [("Authorization", "Basic " + Convert.ToBase64String([0xff, 0xfe, (byte)':', 0xc0]))],
            [("Authorization", "Basic !!!not-base64!!!")],
            [("Authorization", "Basic " + new string('A', 6000))],
            [("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")],
            [("Authorization", "basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:Operator-Password-1")) + "x")],
            [("X-Forwarded-For", "127.0.0.1"), ("X-Real-IP", "127.0.0.1"), ("Forwarded", "for=127.0.0.1")],
            [("Host", "localhost"), ("X-Forwarded-Host", "localhost")],
        ]));
        var method = Pick(["GET", "GET", "POST", "HEAD", "DELETE"]);
        return method == "POST"
            ? Post(path, "dashboard", "application/x-www-form-urlencoded", Encoding.UTF8.GetBytes("jobs[]=dispatch&jobs[]=1"), [.. headers, .. HostileHeaders(10)])
            : Request(method, path, "dashboard", [.. headers, .. HostileHeaders(10)], null);
    }

    private RawRequest WithHostileHeaders()
    {
        var target = Pick(["/", "/subscribe", "/healthz", "/confirm/" + TokenFor(TokenPurpose.Confirm), "/go/" + TokenFor(TokenPurpose.Click) + "/facebook"]);
        var headers = HostileHeaders(100);
        headers.AddRange(Enumerable.Range(0, random.Next(1, 4)).Select(_ => HostileHeader()));
        return target == "/subscribe"
            ? Post(target, "hostile headers", "application/json", Encoding.UTF8.GetBytes(JsonBody()), headers)
            : Request(Pick(["GET", "GET", "HEAD", "OPTIONS"]), target, "hostile headers", headers, null);
    }

    private RawRequest Huge()
    {
        return random.Next(5) switch
        {
            0 => Post("/subscribe", "huge body", "application/json", Encoding.UTF8.GetBytes(
                $$"""{"email":{{JsonSerializer.Serialize(InvalidEmail())}},"pad":"{{new string('x', random.Next(20_000, 2_000_000))}}"}"""), [], cutOff: true),
            1 => new RawRequest("huge chunked body", "/subscribe", RawHttp.Build("POST", "/subscribe",
                [(TestClient, ClientIp()), ("Content-Type", "application/x-www-form-urlencoded")], Chunks(new string('e', 40_000)), chunked: true), true),
            2 => Request("GET", "/", "huge header", [("X-Padding", new string('h', 40_000))], null, cutOff: true),
            3 => Request("GET", "/", "many headers", [.. Enumerable.Range(0, 150).Select(i => ($"X-H{i}", "v"))], null, cutOff: true),
            _ => Request("GET", "/confirm/" + new string('t', 10_000), "huge path", [], null, cutOff: true),
        };
    }

    private RawRequest BrokenRequestLine()
    {
        var (method, target, version) = Pick([
            ("GET", " /", "HTTP/1.1"), ("GET", "/\u00ff", "HTTP/1.1"), ("GET", "/", "HTTX/1.1"), ("GET", "http://evil.example/", "HTTP/1.1"),
            ("GET", "http://evil.example//evil.example", "HTTP/1.1"), ("GET", "*", "HTTP/1.1"), ("OPTIONS", "*", "HTTP/1.1"),
            ("CONNECT", "evil.example:443", "HTTP/1.1"), ("G\0T", "/", "HTTP/1.1"), ("GET", "/", "HTTP/2.0"), ("GET", "/", "HTTP/1.2"),
            ("GET", "/", "HTTP/1.0"), ("GET", "/ HTTP/1.1\r\nX", "HTTP/1.1"), ("GET", "/\r\n", "HTTP/1.1"), ("", "/", "HTTP/1.1"),
        ]);
        var addHost = random.Next(3) != 0;
        return new RawRequest("broken request line", "/", RawHttp.Build(method, target, [(TestClient, ClientIp())], null, version, addHost: addHost));
    }
}
