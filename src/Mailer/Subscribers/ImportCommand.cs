using System.Globalization;
using CsvHelper;
using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Subscribers;

/// <summary>
/// <c>import FILE.csv [--skip-invalid]</c>: adds people whose consent was collected elsewhere, as confirmed
/// subscribers with an <c>import</c> consent record (given_at and confirmed_at = consent_at, the
/// consent_source as the consent text version).
/// The file is read twice, in flat memory. The first pass checks every row and lists each rejected one with
/// its line number and reason; if any was rejected, nothing is written unless <c>--skip-invalid</c> is given.
/// The second pass writes: on SQLite in batches, each committed on its own, so the running service gets its turn
/// at the file; on PostgreSQL in one transaction (<see cref="StagedImport"/>: all rows or none). Addresses already
/// known, in whatever state, are left as they are: an import never resubscribes someone who left, and running the
/// same import again changes nothing, which also makes an interrupted import safe to finish by running it again.
/// Exit code 1 when any row was rejected.
/// </summary>
public sealed class ImportCommand(Database database, CampaignCatalog catalog, TimeProvider time) : IOperatorCommand
{
    public string Verb => "import";

    public string Usage => "import FILE.csv [--skip-invalid] " + CampaignArgument.Usage + "   columns: email,locale,platforms,consent_at,consent_source";

    /// <summary>Rows per transaction on SQLite (PostgreSQL writes all in one).</summary>
    internal int BatchSize { get; init; } = 10_000;

    /// <summary>How long a SQLite import leaves the store to the running service after each batch.</summary>
    internal TimeSpan PauseBetweenBatches { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A progress line after every this many rows.</summary>
    internal int ProgressEvery { get; init; } = 100_000;

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var path = arguments.Required(0, "FILE.csv");
        var skipInvalid = arguments.Flag("skip-invalid");
        var campaign = CampaignArgument.Resolve(arguments, catalog);
        arguments.EnsureNoOthers(1);
        if (!File.Exists(path))
        {
            throw new UsageException($"{path}: no such file.");
        }

        var platforms = campaign.Platforms.Keys.Select(k => k.ToLowerInvariant()).ToList();
        var rules = new SubscriberCsv.Rules(time.GetUtcNow(), platforms, campaign.Name);
        var counts = new Counts();
        try
        {
            if (!await CheckAsync(path, rules, counts, output, cancellationToken))
            {
                return 1;
            }

            if (counts.Rejected > 0 && !skipInvalid)
            {
                await output.WriteLineAsync(Invariant(
                    $"{counts.Rejected:N0} rows rejected, {counts.Valid:N0} valid; nothing imported. Correct the rejected rows, or import the valid ones with --skip-invalid."));
                await WriteSummaryAsync(output, counts);
                return 1;
            }

            await (database.IsSqlite
                ? WriteInBatchesAsync(path, rules, counts, output, cancellationToken)
                : WriteStagedAsync(path, rules, counts, output, cancellationToken));
        }
        catch (CsvFormatException e)
        {
            await output.WriteLineAsync(Invariant($"line {e.LineNumber}: unreadable CSV ({e.Message}); nothing more imported."));
            await WriteSummaryAsync(output, counts);
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync(database.IsSqlite
                ? "stopped. The rows imported so far are stored; run the same import again to finish (known addresses are skipped)."
                : "stopped. Nothing was imported (one transaction, rolled back); run the same import again.");
            await WriteSummaryAsync(output, counts);
            return 130;
        }

        await WriteSummaryAsync(output, counts);
        return counts.Rejected > 0 ? 1 : 0;
    }

    /// <summary>The first pass: false when the file cannot be imported at all.</summary>
    private async Task<bool> CheckAsync(string path, SubscriberCsv.Rules rules, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = SubscriberCsv.ImportReader.Open(path, rules);
        if (reader.HeaderProblem is { } problem)
        {
            await output.WriteLineAsync($"{path}: {problem}. Nothing imported.");
            return false;
        }

        var seen = 0L;
        await foreach (var row in reader.ReadAllAsync(cancellationToken))
        {
            if (row.Rejection is { } reason)
            {
                counts.Rejected++;
                await output.WriteLineAsync(Invariant($"line {row.Line}: {reason}"));
            }
            else
            {
                counts.Valid++;
            }

            if (++seen % ProgressEvery == 0)
            {
                await output.WriteLineAsync(Invariant($"checked {seen:N0} rows…"));
            }
        }

        return true;
    }

    /// <summary>The second pass on SQLite: the valid rows, in batches.</summary>
    private async Task WriteInBatchesAsync(string path, SubscriberCsv.Rules rules, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = SubscriberCsv.ImportReader.Open(path, rules);
        await using var writer = await OperatorData.ImportWriter.OpenAsync(database, rules.Campaign, rules.Now, BatchSize, PauseBetweenBatches, cancellationToken);
        var written = 0L;
        try
        {
            await foreach (var row in reader.ReadAllAsync(cancellationToken))
            {
                if (row.Row is null)
                {
                    continue;
                }

                if (!await writer.AddAsync(row.Row, cancellationToken))
                {
                    counts.Known++;
                }

                if (++written % ProgressEvery == 0)
                {
                    await output.WriteLineAsync(Invariant($"imported {written:N0} of {counts.Valid:N0} rows…"));
                }
            }

            await writer.CommitAsync(cancellationToken);
        }
        finally
        {
            // Only what was committed counts: an interrupted batch is rolled back.
            counts.Imported = writer.Stored;
        }
    }

    /// <summary>The second pass on PostgreSQL: the valid rows copied into a staging table, then added at once.</summary>
    private async Task WriteStagedAsync(string path, SubscriberCsv.Rules rules, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = SubscriberCsv.ImportReader.Open(path, rules);
        await using var import = await StagedImport.BeginAsync(database.NpgsqlDataSource, cancellationToken);
        var staged = 0L;
        await foreach (var row in reader.ReadAllAsync(cancellationToken))
        {
            if (row.Row is null)
            {
                continue;
            }

            await import.StageAsync(row.Line, row.Row, cancellationToken);
            if (++staged % ProgressEvery == 0)
            {
                await output.WriteLineAsync(Invariant($"imported {staged:N0} of {counts.Valid:N0} rows…"));
            }
        }

        await output.WriteLineAsync(Invariant($"storing {staged:N0} rows in one transaction…"));
        counts.Imported = await import.CommitAsync(rules.Now, cancellationToken);
        counts.Known = staged - counts.Imported;
    }

    private static Task WriteSummaryAsync(TextWriter output, Counts counts) =>
        output.WriteLineAsync(Invariant($"imported {counts.Imported:N0}, skipped (already known) {counts.Known:N0}, rejected {counts.Rejected:N0}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Counts
    {
        public long Valid { get; set; }

        public long Rejected { get; set; }

        public long Imported { get; set; }

        public long Known { get; set; }
    }
}
