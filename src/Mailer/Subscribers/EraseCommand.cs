using System.Globalization;
using Dapper;
using Mailer.Cli;
using Mailer.Storage;

namespace Mailer.Subscribers;

/// <summary>
/// <c>erase ADDRESS</c>: removes a person and everything recorded about them (subscriber row, consents, link
/// events, deliveries) in one transaction, for a request to erase their data (GDPR Art. 17). The address is
/// normalized as on import (trimmed, domain lower-cased). Prints <c>erased</c> or <c>not found</c> and exits 0
/// either way: the outcome asked for, no data about that address, holds in both cases.
/// </summary>
public sealed class EraseCommand(Database database) : IOperatorCommand
{
    public string Verb => "erase";

    public string Usage => "erase ADDRESS   remove the person and everything recorded about them";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var address = arguments.Required(0, "ADDRESS");
        arguments.EnsureNoOthers(1);
        var email = SubscriberCsv.NormalizeForLookup(address)
            ?? throw new UsageException($"'{address}' is not a mail address.");

        var erased = await OperatorData.EraseAsync(database, email, cancellationToken);
        if (erased is not null)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"erased (the subscriber, {erased.Consents} consent records, {erased.LinkEvents} link events, {erased.Deliveries} deliveries)"));
            return 0;
        }

        // The local part is stored as typed; a request written in other case would otherwise miss silently.
        await using var connection = await database.OpenAsync(cancellationToken);
        var variants = (await connection.QueryAsync<string>(OperatorData.FindCaseVariants, new { email })).ToList();
        await output.WriteLineAsync(variants.Count == 0
            ? "not found"
            : $"not found; stored with other upper/lower case: {string.Join(", ", variants)} (erase that spelling if it is the same person)");
        return 0;
    }
}
