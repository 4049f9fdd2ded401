using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailer.Tests.Observability;

/// <summary>The samples of a Prometheus text scrape, for assertions: <c>name{label="value",...} number</c>.</summary>
public sealed partial class PrometheusText(string text)
{
    public string Text { get; } = text;

    /// <summary>The samples named <paramref name="name"/>, each with its labels.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> Samples(string name) =>
        [.. Text.Split('\n')
            .Select(line => Sample().Match(line))
            .Where(match => match.Success && match.Groups["name"].Value == name)
            .Select(match => ((IReadOnlyDictionary<string, string>)Label().Matches(match.Groups["labels"].Value)
                    .ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value),
                double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)))];

    /// <summary>The value of the one sample of <paramref name="name"/> with these labels (among others), 0 when there is none.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        Samples(name).Where(s => labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
