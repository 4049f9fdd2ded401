using System.Data.Common;
using Mailer.Hosting;

namespace Mailer.Storage;

/// <summary>
/// Writes that arrive together are committed together: one transaction (and one turn at SQLite's write lock) for
/// the requests waiting at that moment, up to <see cref="MaxBatch"/>. Each caller still gets its answer only after
/// the commit that holds its write, so an answer still means the write survives a crash of the process.
/// </summary>
/// <remarks>
/// If a batch fails, each of its requests is tried again in a transaction of its own, so one request that cannot
/// be written fails alone and nothing is half-written. Only SQLite batches: its writers take turns anyway, so sharing a
/// turn is pure gain. PostgreSQL lets writers commit side by side (and groups their flushes itself); there each request
/// is written in its own transaction at once, as a batch of one would be.
/// </remarks>
internal sealed class GroupCommit<TRequest, TResult>
{
    /// <summary>Most requests in one transaction: enough to share a commit, few enough to keep each answer quick.</summary>
    public const int MaxBatch = 128;

    private readonly Database _database;
    private readonly Func<DbConnection, DbTransaction, TRequest, Task<TResult>> _write;
    private readonly Batcher<TRequest, TResult> _batcher;

    public GroupCommit(Database database, Func<DbConnection, DbTransaction, TRequest, Task<TResult>> write)
    {
        _database = database;
        _write = write;
        _batcher = new Batcher<TRequest, TResult>(WriteBatchAsync, MaxBatch);
    }

    /// <summary>Writes <paramref name="request"/> in a transaction with the others waiting; the result after the commit.</summary>
    public async Task<TResult> WriteAsync(TRequest request, CancellationToken cancellationToken)
    {
        if (_database.IsSqlite)
        {
            return await _batcher.RunAsync(request, cancellationToken);
        }

        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await _write(connection, transaction, request);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task WriteBatchAsync(IReadOnlyList<Batcher<TRequest, TResult>.Item> batch)
    {
        try
        {
            await WriteTogetherAsync(batch);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // Rolled back as a whole; each on its own now, so only a request that fails by itself fails.
            foreach (var item in batch)
            {
                try
                {
                    await WriteTogetherAsync([item]);
                }
                catch (Exception e)
                {
                    item.Fail(e);
                }
            }
        }
    }

    private async Task WriteTogetherAsync(IReadOnlyList<Batcher<TRequest, TResult>.Item> batch)
    {
        var results = new TResult[batch.Count];
        await using (var connection = await _database.OpenAsync())
        {
            using var turn = await _database.EnterWriteAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            for (var i = 0; i < batch.Count; i++)
            {
                results[i] = await _write(connection, transaction, batch[i].Request);
            }

            await transaction.CommitAsync();
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(results[i]);
        }
    }
}
