using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Mailer.Hosting;

/// <summary>
/// Mailer behind a reverse proxy (nginx on the same host, a load balancer): the visitor's address and scheme come from
/// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>, but only on connections from <c>Hosting:KnownProxies</c> or
/// <c>Hosting:KnownNetworks</c>. The framework's default (loopback trusted) is cleared: nothing is believed unless
/// configured, so a visitor cannot pick their own address for the rate limit or the consent record.
/// </summary>
public sealed class ReverseProxy(IOptions<ForwardedHeadersOptions> forwarding)
{
    // Any of these says a proxy handled the request, whether the middleware believed it (X-Original-*) or not.
    private static readonly string[] ProxyHeaders =
        ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Real-IP",
         "X-Original-For", "X-Original-Proto", "X-Original-Host", "X-Original-Prefix"];

    internal static void Configure(ForwardedHeadersOptions forwarding, HostingOptions hosting)
    {
        forwarding.ForwardLimit = 1;
        forwarding.KnownProxies.Clear();
        forwarding.KnownIPNetworks.Clear();
        foreach (var address in hosting.ProxyAddresses())
        {
            forwarding.KnownProxies.Add(address);
        }

        foreach (var network in hosting.ProxyNetworks())
        {
            forwarding.KnownIPNetworks.Add(network);
        }

        // The middleware believes every sender when both lists are empty: with no proxy configured it must not run at all.
        forwarding.ForwardedHeaders = forwarding.KnownProxies.Count + forwarding.KnownIPNetworks.Count == 0
            ? ForwardedHeaders.None
            : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
    }

    /// <summary>
    /// Whether the request came through a proxy: it carries a forwarding header (believed or not), or its connection
    /// comes from a known proxy. Such a request is never "from this machine", whatever its socket says.
    /// </summary>
    public bool CameThroughProxy(HttpContext http)
    {
        var headers = http.Request.Headers;
        foreach (var name in ProxyHeaders)
        {
            if (headers.ContainsKey(name))
            {
                return true;
            }
        }

        return http.Connection.RemoteIpAddress is { } remote && IsKnownProxy(remote);
    }

    /// <summary>Whether <paramref name="address"/> is a configured proxy (an IPv4-mapped IPv6 address counts as its IPv4).</summary>
    public bool IsKnownProxy(IPAddress address)
    {
        var options = forwarding.Value;
        var candidates = address.IsIPv4MappedToIPv6 ? new[] { address, address.MapToIPv4() } : [address];
        return candidates.Any(a => options.KnownProxies.Contains(a) || options.KnownIPNetworks.Any(n => n.Contains(a)));
    }
}
