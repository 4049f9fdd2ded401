using System.ComponentModel.DataAnnotations;

namespace Mailer.Observability;

/// <summary>The <c>Otlp</c> section: where the metrics go over OTLP, besides the Prometheus scrape at <c>/metrics</c>.</summary>
public sealed class OtlpOptions : IValidatableObject
{
    public const string Section = "Otlp";

    /// <summary>
    /// The collector's OTLP/HTTP address, e.g. <c>http://collector:4318</c>; Mailer posts to <c>/v1/metrics</c> below it
    /// (protobuf; an address that already ends in <c>/v1/metrics</c> is taken as it is). Default empty: no OTLP export.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>How often the metrics are sent. Default 00:01:00; 00:00:01 to 01:00:00.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Otlp:ExportInterval must be 00:00:01-01:00:00.")]
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The address metrics are posted to, or null when <see cref="Endpoint"/> is not set.</summary>
    public Uri? MetricsUri()
    {
        if (string.IsNullOrWhiteSpace(Endpoint) || !IsHttpUri(Endpoint.Trim(), out var uri))
        {
            return null;
        }

        var address = uri.AbsoluteUri.TrimEnd('/');
        return new Uri(address.EndsWith("/v1/metrics", StringComparison.Ordinal) ? address : address + "/v1/metrics");
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Endpoint) && !IsHttpUri(Endpoint.Trim(), out _))
        {
            yield return new ValidationResult(
                "Otlp:Endpoint must be an absolute http or https address without a query, such as http://collector:4318.", [nameof(Endpoint)]);
        }
    }

    private static bool IsHttpUri(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
}
