using System.Globalization;
using CsvHelper;
using Dapper;
using Mailer.Cli;
using Mailer.Storage;

namespace Mailer.OperatorData;

/// <summary>
/// <c>export FILE.csv</c> (or <c>-</c> for standard output): every subscriber with their status and proof of
/// consent, one line per consent record (a subscriber who signed up twice has two lines, one without any
/// consent record has one with empty consent columns), streamed from the store. Times are ISO 8601 in UTC.
/// A field that a spreadsheet would run as a formula (starting with <c>=</c> <c>+</c> <c>-</c> <c>@</c>, tab
/// or CR) is written with a leading <c>'</c>, as OWASP recommends against CSV injection. A file is written
/// beside its destination, readable by its owner only, and renamed into place when complete. The last columns say since
/// when and why no mail goes to the address, and every report that came back for it (date, kind, DSN status, source,
/// diagnostic; <c> | </c> between them).
/// </summary>
public sealed class ExportCommand(Database database) : IOperatorCommand
{
    /// <summary>The columns of the export, in order.</summary>
    internal static readonly string[] Columns =
    [
        "email", "locale", "platforms", "done_platforms", "status", "created_at", "confirmed_at", "unsubscribed_at",
        "consent_source", "consent_text_version", "consent_given_at", "consent_client_ip", "consent_user_agent",
        "consent_confirmed_at", "consent_confirm_ip", "suppressed_at", "suppressed_reason", "bounces", "campaign", "consent_purpose",
    ];

    public string Verb => "export";

    public string Usage => "export FILE.csv|-   every subscriber with status and consent records (- for standard output)";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var path = arguments.Required(0, "FILE.csv (or - for standard output)");
        arguments.EnsureNoOthers(1);
        if (path == "-")
        {
            await using var csv = CsvWriter.Create(output, Options, leaveOpen: true);
            await WriteAsync(csv, cancellationToken);
            return 0;
        }

        var destination = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(destination)!;
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"{folder}: no such folder.");
        }

        var temporary = Path.Combine(folder, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.tmp");
        try
        {
            (long Lines, long Subscribers) written;
            await using (var csv = CsvWriter.Create(CreatePrivateFile(temporary), Options, leaveOpen: false))
            {
                written = await WriteAsync(csv, cancellationToken);
            }

            File.Move(temporary, destination, overwrite: true);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"exported {written.Subscribers:N0} subscribers ({written.Lines:N0} lines) to {path}"));
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync($"stopped; {path} was not written.");
            return 130;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static CsvWriterOptions Options => new() { Injection = CsvInjection.Escape };

    private async Task<(long Lines, long Subscribers)> WriteAsync(CsvWriter csv, CancellationToken cancellationToken)
    {
        csv.WriteHeader(Columns);
        var (lines, subscribers, previous) = (0L, 0L, 0L);
        await using var connection = await database.OpenAsync(cancellationToken);
        var bounces = (await connection.QueryAsync<OperatorDataCommands.ExportBounce>(OperatorDataCommands.ExportBounceEvents))
            .GroupBy(b => b.SubscriberId)
            .ToDictionary(g => g.Key, g => string.Join(" | ", g.Select(b =>
                $"{Iso(b.ReceivedAt)} {b.Kind}{(b.Status is null ? "" : " " + b.Status)} ({b.Source}){(string.IsNullOrEmpty(b.Diagnostic) ? "" : ": " + b.Diagnostic)}")));
        var rows = connection.QueryUnbufferedAsync<OperatorDataCommands.ExportRow>(OperatorDataCommands.ExportSubscribersWithConsents);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            csv.WriteField(row.Email);
            csv.WriteField(row.Locale);
            csv.WriteField(row.Platforms);
            csv.WriteField(row.DonePlatforms);
            csv.WriteField(row.Status);
            csv.WriteField(Iso(row.CreatedAt));
            csv.WriteField(Iso(row.ConfirmedAt));
            csv.WriteField(Iso(row.UnsubscribedAt));
            csv.WriteField(row.ConsentSource);
            csv.WriteField(row.ConsentTextVersion);
            csv.WriteField(Iso(row.ConsentGivenAt));
            csv.WriteField(row.ClientIp);
            csv.WriteField(row.UserAgent);
            csv.WriteField(Iso(row.ConsentConfirmedAt));
            csv.WriteField(row.ConfirmIp);
            csv.WriteField(Iso(row.SuppressedAt));
            csv.WriteField(row.SuppressedReason);
            csv.WriteField(bounces.GetValueOrDefault(row.SubscriberId));
            csv.WriteField(row.Campaign);
            csv.WriteField(row.ConsentPurpose);
            await csv.EndRecordAsync(cancellationToken);
            lines++;
            if (row.SubscriberId != previous)
            {
                subscribers++;
                previous = row.SubscriberId;
            }
        }

        await csv.FlushAsync(cancellationToken);
        return (lines, subscribers);
    }

    /// <summary>Unix milliseconds as ISO 8601 in UTC, as the import reads them back.</summary>
    private static string? Iso(long? unixMilliseconds) =>
        unixMilliseconds is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
            : null;

    /// <summary>The export holds personal data: on Unix the file is created readable and writable by its owner only.</summary>
    private static FileStream CreatePrivateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }
}
