using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using CsvHelper;
using Mailer.Rendering;
using Mailer.Signups;

namespace Mailer.OperatorData;

/// <summary>
/// The subscriber files of the operators' command line: what a row of an import must hold, how each field
/// is checked and normalized (the address by <see cref="EmailAddress.Normalize"/>, as everywhere).
/// </summary>
internal static partial class SubscriberCsv
{
    /// <summary>The columns an import file must have, in any order; other columns are ignored.</summary>
    public static readonly IReadOnlyList<string> ImportColumns = ["email", "locale", "platforms", "consent_at", "consent_source"];

    private const int MaxConsentSourceLength = 200;

    /// <summary>A row that passed every check, normalized for storage.</summary>
    /// <param name="Platforms">Comma-separated, in the campaign's order: <c>facebook,instagram</c>.</param>
    public sealed record Row(string Email, string Locale, string Platforms, DateTimeOffset ConsentAt, string ConsentSource);

    /// <summary>What an import checks rows against: the moment of the import and the campaign's platforms.</summary>
    public sealed record Rules(DateTimeOffset Now, IReadOnlyList<string> Platforms, string Campaign = "meta-ai-objection");

    /// <summary>One record of an import file: a valid row or the reason it was rejected.</summary>
    public readonly record struct Checked(long Line, Row? Row, string? Rejection);

    /// <summary>Checks the five fields of one record (in <see cref="ImportColumns"/> order).</summary>
    public static Checked Check(long line, IReadOnlyList<string> fields, Rules rules)
    {
        if (fields.Any(f => f.Contains('\uFFFD', StringComparison.Ordinal)))
        {
            return Reject(line, "the row is not valid UTF-8 text (save the file as CSV UTF-8)");
        }

        var consentAtText = fields[3].Trim();
        var source = fields[4].Trim();
        if (consentAtText.Length == 0 || source.Length == 0)
        {
            return Reject(line, "no proof of consent: consent_at and consent_source are required");
        }

        if (!TryParseInstant(consentAtText, out var consentAt))
        {
            return Reject(line, "consent_at is not an ISO-8601 time with an offset, such as 2024-05-01T09:30:00+02:00 or 2024-05-01T07:30:00Z");
        }

        if (consentAt > rules.Now)
        {
            return Reject(line, "consent_at is in the future");
        }

        if (source.Length > MaxConsentSourceLength || source.Any(char.IsControl))
        {
            return Reject(line, $"consent_source must be one line of at most {MaxConsentSourceLength} characters");
        }

        var emailProblem = EmailAddress.Normalize(fields[0], out var email);
        if (emailProblem != EmailProblem.None)
        {
            return Reject(line, emailProblem == EmailProblem.TooLong
                ? "email is not a valid address (over 64 characters before the @, or 254 in all)"
                : "email is not a valid address");
        }

        var locale = NormalizeLocale(fields[1]);
        if (locale is null)
        {
            return Reject(line, $"locale must be one of {string.Join(", ", Mailings.Locales)} (empty means de)");
        }

        var platforms = NormalizePlatforms(fields[2], rules.Platforms, out var unknown);
        if (platforms is null)
        {
            return Reject(line, $"unknown platform '{Printable(unknown!)}'; known: {string.Join(", ", rules.Platforms)} (empty means all)");
        }

        return new Checked(line, new Row(email, locale, platforms, consentAt, source), null);
    }

    /// <summary>The locale to store: <c>de</c> when empty; <c>de-AT</c> and <c>EN_gb</c> count as their language.</summary>
    public static string? NormalizeLocale(string field)
    {
        var text = field.Trim();
        if (text.Length == 0)
        {
            return "de";
        }

        var language = text.Split('-', '_')[0].ToLowerInvariant();
        return Mailings.Locales.Contains(language) ? language : null;
    }

    /// <summary>
    /// The chosen platforms as stored (comma-separated, in the campaign's order), all of them when the field is
    /// empty; null with the first <paramref name="unknown"/> name otherwise. Names may be separated by
    /// <c>;</c>, <c>|</c>, <c>,</c> or spaces.
    /// </summary>
    public static string? NormalizePlatforms(string field, IReadOnlyList<string> known, out string? unknown)
    {
        var names = field.Split([';', '|', ',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(n => n.ToLowerInvariant())
            .ToList();
        unknown = names.FirstOrDefault(n => !known.Contains(n));
        if (unknown is not null)
        {
            return null;
        }

        return string.Join(",", known.Where(k => names.Count == 0 || names.Contains(k)));
    }

    /// <summary>ISO 8601 with a date, a time and an explicit offset (<c>Z</c> or <c>±hh:mm</c>); a time without one is ambiguous proof.</summary>
    public static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        return IsoInstant().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    /// <summary>
    /// An import file, read record by record in flat memory. The separator is the one the header line uses
    /// (<c>,</c>, or <c>;</c> as German spreadsheets write); quoted fields may hold separators and line breaks
    /// (RFC 4180). Line numbers are those of the file, counting the lines inside quoted fields.
    /// </summary>
    public sealed class ImportReader : IDisposable
    {
        /// <summary>Longer records are broken input (an unclosed quote), not subscribers.</summary>
        private const int MaxRecordBytes = 64 * 1024;

        private readonly CsvReader _csv;
        private readonly Rules _rules;
        private readonly Queue<Checked> _malformed = new();
        private readonly int[] _columns = new int[ImportColumns.Count];
        private readonly string[] _fields = new string[ImportColumns.Count];
        private readonly int _headerCount;

        private ImportReader(Stream stream, Rules rules)
        {
            _rules = rules;
            _csv = CsvReader.Create(stream, new CsvReaderOptions
            {
                Separator = DetectSeparator(stream),
                TrackLineNumbers = true,
                MaxRecordSize = MaxRecordBytes,
                MalformedData = CsvMalformedDataHandling.Skip,
                OnMalformedRecord = record => _malformed.Enqueue(
                    Reject(record.LineNumber, "broken quoting (a field with a quote in it must be quoted, and quotes inside doubled)")),
                IncludeValuesInExceptions = false,
            }, leaveOpen: false);

            var headers = _csv.Headers.Select(h => h.Trim().ToLowerInvariant()).ToList();
            var missing = new List<string>();
            for (var i = 0; i < ImportColumns.Count; i++)
            {
                _columns[i] = headers.IndexOf(ImportColumns[i]);
                if (_columns[i] < 0)
                {
                    missing.Add(ImportColumns[i]);
                }
            }

            _headerCount = headers.Count;
            if (missing.Count > 0)
            {
                HeaderProblem = $"the first line must name the columns {string.Join(",", ImportColumns)}; missing: {string.Join(", ", missing)}";
            }
        }

        /// <summary>Why the file cannot be imported at all, or null.</summary>
        public string? HeaderProblem { get; }

        public static ImportReader Open(string path, Rules rules) =>
            new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), rules);

        /// <summary>Every record after the header, checked, in file order.</summary>
        public async IAsyncEnumerable<Checked> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            while (await _csv.ReadAsync(cancellationToken))
            {
                while (_malformed.TryDequeue(out var broken))
                {
                    yield return broken;
                }

                yield return CheckCurrent();
            }

            while (_malformed.TryDequeue(out var broken))
            {
                yield return broken;
            }
        }

        public void Dispose() => _csv.Dispose();

        private Checked CheckCurrent()
        {
            var line = _csv.LineNumber;
            if (_csv.FieldCount != _headerCount)
            {
                return Reject(line, $"{_csv.FieldCount} fields where the header has {_headerCount} (a value with the separator in it must be quoted)");
            }

            for (var i = 0; i < _columns.Length; i++)
            {
                _fields[i] = _csv.GetString(_columns[i]);
            }

            return Check(line, _fields, _rules);
        }

        /// <summary>The most frequent of <c>,</c> <c>;</c> and tab in the header line; a comma when in doubt.</summary>
        private static char DetectSeparator(Stream stream)
        {
            var buffer = new byte[4096];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            stream.Position = 0;
            var header = buffer.AsSpan(0, length);
            var end = header.IndexOfAny((byte)'\r', (byte)'\n');
            if (end >= 0)
            {
                header = header[..end];
            }

            var (best, bestCount) = (',', 0);
            foreach (var candidate in ",;\t")
            {
                var count = header.Count((byte)candidate);
                if (count > bestCount)
                {
                    (best, bestCount) = (candidate, count);
                }
            }

            return best;
        }
    }

    private static Checked Reject(long line, string reason) => new(line, null, reason);

    /// <summary>An input value short and harmless enough to quote in a rejection.</summary>
    private static string Printable(string value)
    {
        var clean = new string([.. value.Where(c => !char.IsControl(c))]);
        return clean.Length <= 20 ? clean : clean[..20] + "…";
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();
}
