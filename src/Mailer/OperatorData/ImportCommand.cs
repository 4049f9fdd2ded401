using System.Globalization;
using CsvHelper;
using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.OperatorData;

/// <summary>
/// <c>import FILE.csv [--skip-invalid]</c>: adds people whose consent was collected elsewhere, as confirmed
/// subscribers with an <c>import</c> consent record (given_at and confirmed_at = consent_at, the
/// consent_source as the consent text version).
/// The file is read in flat memory. Every row is checked and each rejected one listed with its line number and
/// reason; if any was rejected, nothing is written unless <c>--skip-invalid</c> is given. On SQLite the file is read
/// twice: the first pass checks, the second writes in batches, each committed on its own, so the running service
/// gets its turn at the file. On PostgreSQL it is read once, each valid row copied into the import's transaction
/// as it is checked (<see cref="StagedImport"/>: all rows or none); a rejected row without <c>--skip-invalid</c>
/// rolls that transaction back, so nothing is written there either. Addresses already
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
            if (!(database.IsSqlite
                ? await CheckThenWriteInBatchesAsync(path, rules, skipInvalid, counts, output, cancellationToken)
                : await CheckAndStageAsync(path, rules, skipInvalid, counts, output, cancellationToken)))
            {
                return 1;
            }
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

    /// <summary>On SQLite: the checking pass, then, when the file may be written, the writing pass; false when nothing was.</summary>
    private async Task<bool> CheckThenWriteInBatchesAsync(
        string path, SubscriberCsv.Rules rules, bool skipInvalid, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using (var reader = SubscriberCsv.ImportReader.Open(path, rules))
        {
            if (!await CheckAsync(reader, path, counts, output, stage: null, cancellationToken)
                || !await MayWriteAsync(skipInvalid, counts, output))
            {
                return false;
            }
        }

        await WriteInBatchesAsync(path, rules, counts, output, cancellationToken);
        return true;
    }

    /// <summary>
    /// On PostgreSQL: one pass that checks each row and copies the valid ones into the import's transaction, which
    /// commits only when the file may be written. The server stores the copied rows while the next ones are read and
    /// checked here, instead of the file being parsed once more before the copy; false when nothing was written.
    /// </summary>
    private async Task<bool> CheckAndStageAsync(
        string path, SubscriberCsv.Rules rules, bool skipInvalid, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = SubscriberCsv.ImportReader.Open(path, rules);
        if (reader.HeaderProblem is not null)
        {
            // Nothing to stage: the check reports the header and stops before the first row.
            return await CheckAsync(reader, path, counts, output, stage: null, cancellationToken);
        }

        await using var import = await StagedImport.BeginAsync(database.NpgsqlDataSource, cancellationToken);
        import.Campaign = rules.Campaign;
        var staged = 0L;
        await CheckAsync(reader, path, counts, output, async (line, row) =>
        {
            // After a rejection without --skip-invalid the transaction is rolled back; copying more is wasted.
            if (counts.Rejected == 0 || skipInvalid)
            {
                await import.StageAsync(line, row, cancellationToken);
                staged++;
            }
        }, cancellationToken);
        if (!await MayWriteAsync(skipInvalid, counts, output))
        {
            return false;
        }

        await output.WriteLineAsync(Invariant($"storing {staged:N0} rows in one transaction…"));
        counts.Imported = await import.CommitAsync(rules.Now, cancellationToken);
        counts.Known = staged - counts.Imported;
        return true;
    }

    /// <summary>Checks every row, lists the rejected ones and hands each valid one to <paramref name="stage"/>; false when the file cannot be imported at all.</summary>
    private async Task<bool> CheckAsync(
        SubscriberCsv.ImportReader reader, string path, Counts counts, TextWriter output, Func<long, SubscriberCsv.Row, Task>? stage, CancellationToken cancellationToken)
    {
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
                if (stage is not null && row.Row is { } valid)
                {
                    await stage(row.Line, valid);
                }
            }

            if (++seen % ProgressEvery == 0)
            {
                await output.WriteLineAsync(Invariant($"checked {seen:N0} rows…"));
            }
        }

        return true;
    }

    /// <summary>False, with the reason and the summary written, when rejected rows keep the file from being written.</summary>
    private static async Task<bool> MayWriteAsync(bool skipInvalid, Counts counts, TextWriter output)
    {
        if (counts.Rejected == 0 || skipInvalid)
        {
            return true;
        }

        await output.WriteLineAsync(Invariant(
            $"{counts.Rejected:N0} rows rejected, {counts.Valid:N0} valid; nothing imported. Correct the rejected rows, or import the valid ones with --skip-invalid."));
        await WriteSummaryAsync(output, counts);
        return false;
    }

    /// <summary>The second pass on SQLite: the valid rows, in batches.</summary>
    private async Task WriteInBatchesAsync(string path, SubscriberCsv.Rules rules, Counts counts, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = SubscriberCsv.ImportReader.Open(path, rules);
        await using var writer = await OperatorDataCommands.ImportWriter.OpenAsync(database, rules.Campaign, rules.Now, BatchSize, PauseBetweenBatches, cancellationToken);
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
