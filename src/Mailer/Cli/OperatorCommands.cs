using Mailer.Storage;
using Microsoft.Extensions.Options;

namespace Mailer.Cli;

/// <summary>A verb of the operators' command line, registered by the capability it belongs to.</summary>
public interface IOperatorCommand
{
    string Verb { get; }

    /// <summary>One line: the verb, its arguments and options.</summary>
    string Usage { get; }

    /// <summary>Runs the command; returns the process exit code. Throws <see cref="UsageException"/> for bad arguments.</summary>
    Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken);
}

/// <summary>Bad arguments: the message and the usage are printed and the program exits with 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A parsed command line: the verb, what is meant for it, and what is meant for configuration.</summary>
public sealed record ParsedCommand(string Verb, CommandArguments Arguments, string[] ConfigurationArgs);

public static class OperatorCommands
{
    /// <summary>Null when the program should serve (no verb); otherwise the command.</summary>
    public static ParsedCommand? Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            return null;
        }

        // --Section:Key=value configures the program as when serving; everything else belongs to the verb.
        var configuration = args.Skip(1).Where(IsConfigurationArgument).ToArray();
        var own = args.Skip(1).Where(a => !IsConfigurationArgument(a)).ToList();
        return new ParsedCommand(args[0], CommandArguments.Parse(own), configuration);
    }

    public static WebApplicationBuilder AddOperatorCommands(this WebApplicationBuilder builder) => builder;

    public static Task<int> RunAsync(WebApplication app, ParsedCommand command) =>
        RunAsync(app.Services, command, Console.Out, Console.Error);

    public static async Task<int> RunAsync(IServiceProvider services, ParsedCommand command, TextWriter output, TextWriter error)
    {
        IOperatorCommand? chosen;
        List<IOperatorCommand> commands;
        try
        {
            commands = services.GetServices<IOperatorCommand>().OrderBy(c => c.Verb, StringComparer.Ordinal).ToList();
            chosen = commands.FirstOrDefault(c => c.Verb == command.Verb);
        }
        catch (OptionsValidationException e)
        {
            await error.WriteLineAsync("Invalid configuration: " + string.Join(" ", e.Failures));
            return 1;
        }

        if (chosen is null)
        {
            await error.WriteLineAsync(command.Verb is "help" ? "" : $"Unknown command '{command.Verb}'.");
            await WriteUsageAsync(error, commands);
            return command.Verb == "help" ? 0 : 2;
        }

        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            await services.GetRequiredService<SchemaMigrator>().MigrateAsync(cancellation.Token);
            return await chosen.RunAsync(command.Arguments, output, cancellation.Token);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            await error.WriteLineAsync($"usage: mailer {chosen.Usage}");
            return 2;
        }
        catch (OptionsValidationException e)
        {
            await error.WriteLineAsync("Invalid configuration: " + string.Join(" ", e.Failures));
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task WriteUsageAsync(TextWriter writer, IEnumerable<IOperatorCommand> commands)
    {
        await writer.WriteLineAsync("usage: mailer <command> [arguments] [--Section:Key=value ...]");
        await writer.WriteLineAsync("       mailer                      (no command: serve the endpoints and run the campaign)");
        foreach (var command in commands)
        {
            await writer.WriteLineAsync("  " + command.Usage);
        }
    }

    private static bool IsConfigurationArgument(string argument) =>
        argument.StartsWith("--", StringComparison.Ordinal) && argument.Contains(':') && argument.Contains('=')
        && argument.IndexOf(':') < argument.IndexOf('=');
}
