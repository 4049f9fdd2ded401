using System.Text;

namespace Mailer.Tests.Reliability;

/// <summary>
/// A body no well-behaved client sends, with its framing: <paramref name="DeclaredLength"/> other than the bytes sent,
/// or <paramref name="Chunked"/> bytes written as they are. <paramref name="MayBeCutOff"/>: the server may hang up
/// (or wait out a body that never comes) instead of answering, which is fine, as long as no answer is a 5xx.
/// </summary>
internal sealed record MalformedBody(string Name, string? ContentType, byte[] Bytes, (string Name, string Value)[] Headers,
    long? DeclaredLength = null, bool Chunked = false, bool MayBeCutOff = false);

/// <summary>Malformed bodies of every content type a server may be sent; none of them is a valid signup.</summary>
internal static class MalformedBodies
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Marker = HostileRequests.Marker;

    public static readonly IReadOnlyList<MalformedBody> All =
    [
        new("no body", null, [], []),
        new("JSON cut off", "application/json", Bytes("""{"email": "anna@exa"""), []),
        new("JSON huge", "application/json", Bytes("{\"email\":\"" + new string('x', 600_000) + "\"}"), [], MayBeCutOff: true),
        new("JSON nested 100,000 deep", "application/json", Bytes(new string('[', 100_000) + new string(']', 100_000)), [], MayBeCutOff: true),
        new("JSON not UTF-8", "application/json; charset=utf-8", [.. "{\"email\":\"a"u8, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, .. "\"}"u8], []),
        new("JSON lone surrogate", "application/json", Bytes("""{"\ud800":"\udc00","email":["x"],"platforms":{"$ne":null}}"""), []),
        new("JSON in UTF-16 said to be UTF-8", "application/json; charset=utf-8", Encoding.Unicode.GetBytes("""{"email":"anna@"}"""), []),
        new("JSON with an unknown charset", "application/json; charset=x-nonsense", Bytes("""{"email":1}"""), []),
        new("form with broken escapes", Form, Bytes("email=%zz&%&=&&platforms=%C0%AF&locale=%"), []),
        new("form with 5,000 values", Form, Bytes(string.Join("&", Enumerable.Repeat("a", 5_000))), []),
        new("form with a 3,000-character key", Form, Bytes(new string('k', 3_000) + "=v"), []),
        new("form in UTF-7", Form + "; charset=utf-7", Bytes("email=+ADw-x-injected+AD4-&platforms=facebook"), []),
        new("form with an unknown charset", Form + "; charset=x-nonsense", Bytes("email=x&platforms=facebook"), []),
        new("form of raw bytes", Form, [0x65, 0x3d, 0xff, 0xfe, 0x00, 0x26, 0xc0, 0xaf, 0x3d], []),
        new("multipart without a boundary", "multipart/form-data", Bytes("--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx\r\n--x--\r\n"), []),
        new("multipart with another boundary", "multipart/form-data; boundary=XyZ", Bytes("--other\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx\r\n--other--\r\n"), []),
        new("multipart never closed", "multipart/form-data; boundary=XyZ", Bytes("--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx"), []),
        new("multipart with a 20 KB part header", "multipart/form-data; boundary=XyZ",
            Bytes($"--XyZ\r\nContent-Disposition: form-data; name=\"{new string('n', 20_000)}\"\r\n\r\nx\r\n--XyZ--\r\n"), []),
        new("multipart with a file", "multipart/form-data; boundary=XyZ",
            Bytes("--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"../../x.sh\"\r\nContent-Type: text/x-sh\r\n\r\n#!/bin/sh\r\n--XyZ--\r\n"), []),
        new("multipart/mixed", "multipart/mixed; boundary=XyZ", Bytes("--XyZ\r\n\r\nx\r\n--XyZ--\r\n"), []),
        new("form with hostile job ids", Form, Bytes($"jobs[]=%3C{Marker}%3E&jobs[]=-1&jobs[]=99999999999999999999&jobs[]=1e3&jobs[]=%00&metrics[]=%3C{Marker}%3E"), []),
                new("XML with entities", "application/xml",
            Bytes($"""<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "{Marker}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY x SYSTEM "file:///etc/passwd">]><signup><email>&b;&x;</email></signup>"""), []),
        new("text in an unknown charset", "text/plain; charset=x-nonsense", Bytes("email=anna"), []),
        new("a content type that is none", "\u00ff/\u00fe;;;=\"", Bytes("x"), []),
        new("octet stream", "application/octet-stream", [0x00, 0x01, 0xff, 0xfe, 0x1f, 0x8b, 0x08, 0x00], []),
        new("gzip that is not", "application/json", Bytes("not gzip at all"), [("Content-Encoding", "gzip")]),
        new("empty, Content-Length 10", null, [], [], DeclaredLength: 10, MayBeCutOff: true),
        new("form, Content-Length 10 of 60", Form, Bytes("email=anna%40example&platforms=facebook&locale=de&website=x"), [], DeclaredLength: 10),
        new("JSON, Content-Length 4,000 of 20", "application/json", Bytes("""{"email":"x@y.z"}"""), [], DeclaredLength: 4_000, MayBeCutOff: true),
        new("chunked with broken chunk sizes", Form, Bytes("5\r\nemail\r\nzz\r\n=x\r\n0\r\n\r\n"), [], Chunked: true, MayBeCutOff: true),
    ];

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
