using System.Globalization;
using Mailer.Cli;
using Mailer.Signups;
using Mailer.Storage;

namespace Mailer.OperatorData;

/// <summary>
/// <c>erase ADDRESS</c>: removes a person and everything recorded about them (subscriber row, consents, link
/// events, deliveries) in one transaction, for a request to erase their data (GDPR Art. 17), and then the mails to
/// them in the pickup folder (<see cref="PickupFolderEraser"/>). The address is
/// normalized as everywhere (<see cref="EmailAddress.Normalize"/>), so any case or IDN spelling
/// finds the person. Prints <c>erased</c> or <c>not found</c> (and the mail files removed, if any) and exits 0
/// either way: the outcome asked for, no data about that address, holds in both cases.
/// </summary>
public sealed class EraseCommand(Database database, PickupFolderEraser pickup) : IOperatorCommand
{
    public string Verb => "erase";

    public string Usage => "erase ADDRESS   remove the person and everything recorded about them";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var address = arguments.Required(0, "ADDRESS");
        arguments.EnsureNoOthers(1);
        if (EmailAddress.Normalize(address, out var email) != EmailProblem.None)
        {
            throw new UsageException($"'{address}' is not a mail address.");
        }

        var erased = await OperatorDataCommands.EraseAsync(database, email, cancellationToken);
        // Mails in the pickup folder are removed also when the store no longer knows the address (an earlier erase
        // that ran before this step existed, a never-confirmed address the retention job already deleted).
        var files = await pickup.EraseAsync(email, cancellationToken);
        await output.WriteLineAsync(erased is null
            ? "not found"
            : string.Create(CultureInfo.InvariantCulture,
                $"erased (the subscriber, {erased.Consents} consent records, {erased.LinkEvents} link events, {erased.Deliveries} deliveries)"));
        if (files > 0)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"removed {files} mail files from {pickup.Directory}"));
        }

        return 0;
    }
}
