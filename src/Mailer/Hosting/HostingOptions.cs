using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Mailer.Hosting;

/// <summary>The <c>Hosting</c> section: which reverse proxies are trusted, how long a health answer is kept.</summary>
public sealed class HostingOptions : IValidatableObject
{
    public const string Section = "Hosting";

    /// <summary>
    /// Addresses of the reverse proxies in front of Mailer (<c>Hosting:KnownProxies:0=127.0.0.1</c>). Only a request
    /// whose connection comes from one of these (or from <see cref="KnownNetworks"/>) has its <c>X-Forwarded-For</c>
    /// and <c>X-Forwarded-Proto</c> believed. Default: none, so no forwarded header is believed. Empty entries are ignored.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation (<c>Hosting:KnownNetworks:0=10.0.0.0/24</c>). Default: none.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>
    /// How long the answer of the <c>transport</c> health check (the SMTP relay) is kept, so that probes during a relay
    /// outage do not open a connection each. Default 00:00:15; 00:00:01 to 00:10:00.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Hosting:HealthCacheDuration must be 00:00:01-00:10:00.")]
    public TimeSpan HealthCacheDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The addresses of <see cref="KnownProxies"/>, the invalid ones left out (validation names them).</summary>
    public IEnumerable<IPAddress> ProxyAddresses() =>
        KnownProxies.Select(p => IPAddress.TryParse(p.Trim(), out var address) ? address : null).OfType<IPAddress>();

    /// <summary>The networks of <see cref="KnownNetworks"/>, the invalid ones left out (validation names them).</summary>
    public IEnumerable<IPNetwork> ProxyNetworks() =>
        KnownNetworks.Select(n => TryParseNetwork(n?.Trim() ?? "")).OfType<IPNetwork>();

    /// <summary>A network in CIDR notation whose host bits are zero (<c>10.0.0.1/8</c> is a typo, not <c>10.0.0.0/8</c>).</summary>
    private static IPNetwork? TryParseNetwork(string text)
    {
        var slash = text.IndexOf('/');
        return slash > 0 && IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text[..slash], out var address)
            && address.Equals(network.BaseAddress)
            ? network
            : null;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < KnownProxies.Count; i++)
        {
            var entry = KnownProxies[i]?.Trim() ?? "";
            if (entry.Length > 0 && !IPAddress.TryParse(entry, out _))
            {
                yield return new ValidationResult(
                    $"Hosting:KnownProxies:{i} ('{entry}') must be an IP address such as 127.0.0.1 or ::1 (a network goes in Hosting:KnownNetworks).",
                    [nameof(KnownProxies)]);
            }
        }

        for (var i = 0; i < KnownNetworks.Count; i++)
        {
            var entry = KnownNetworks[i]?.Trim() ?? "";
            if (entry.Length > 0 && TryParseNetwork(entry) is null)
            {
                yield return new ValidationResult(
                    $"Hosting:KnownNetworks:{i} ('{entry}') must be a network in CIDR notation with its host bits zero, such as 10.0.0.0/24 or fd00::/8.",
                    [nameof(KnownNetworks)]);
            }
        }
    }
}
