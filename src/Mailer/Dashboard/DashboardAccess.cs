using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Mailer.Campaigns;
using Mailer.Hosting;
using Microsoft.Extensions.Options;

namespace Mailer.Dashboard;

/// <summary>
/// Who may open <c>/hangfire</c> (and see the details of <c>/healthz</c>): requests from this machine; from elsewhere
/// only with <c>Hangfire:DashboardUser</c> and <c>Hangfire:DashboardPassword</c> (Basic auth), and only through
/// <c>Mailer:PublicBaseUrl</c> when that is https, so the password never crosses the network in clear.
/// A request that came through a reverse proxy is never from this machine, though its socket says loopback: the proxy
/// on the same host forwards the whole internet.
/// </summary>
public sealed class DashboardAccess(IOptions<HangfireOptions> hangfire, IOptions<MailerOptions> mailer, ReverseProxy proxy)
    : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => Authorize(context.GetHttpContext());

    public bool Authorize(HttpContext http)
    {
        if (IsLocal(http))
        {
            return true;
        }

        var options = hangfire.Value;
        if (string.IsNullOrEmpty(options.DashboardUser) || string.IsNullOrEmpty(options.DashboardPassword))
        {
            return false;
        }

        var baseUrl = new Uri(mailer.Value.PublicBaseUrl);
        if (baseUrl.Scheme == Uri.UriSchemeHttps && !string.Equals(http.Request.Host.Host, baseUrl.Host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (BasicCredentials(http) is { } credentials
            && FixedTimeEquals(credentials.User, options.DashboardUser)
            && FixedTimeEquals(credentials.Password, options.DashboardPassword))
        {
            return true;
        }

        http.Response.Headers.WWWAuthenticate = "Basic realm=\"Mailer jobs\", charset=\"UTF-8\"";
        return false;
    }

    private bool IsLocal(HttpContext http)
    {
        if (proxy.CameThroughProxy(http))
        {
            return false;
        }

        var remote = http.Connection.RemoteIpAddress;
        return remote is not null && (IPAddress.IsLoopback(remote) || remote.Equals(http.Connection.LocalIpAddress));
    }

    private static (string User, string Password)? BasicCredentials(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? null : (decoded[..colon], decoded[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool FixedTimeEquals(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
