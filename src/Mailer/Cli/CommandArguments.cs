using Mailer.Campaigns;

namespace Mailer.Cli;

/// <summary>Positional arguments and <c>--name value</c> options of one verb.</summary>
public sealed class CommandArguments
{
    private readonly Dictionary<string, string?> _options;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private CommandArguments(List<string> positional, Dictionary<string, string?> options)
    {
        Positional = positional;
        _options = options;
    }

    public IReadOnlyList<string> Positional { get; }

    public static CommandArguments Parse(IReadOnlyList<string> args)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                options[name[..equals]] = name[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                options[name] = args[++i];
            }
            else
            {
                options[name] = null;
            }
        }

        return new CommandArguments(positional, options);
    }

    /// <summary>The positional argument at <paramref name="index"/>, or a usage error naming it.</summary>
    public string Required(int index, string name) =>
        index < Positional.Count ? Positional[index] : throw new UsageException($"Missing {name}.");

    public string? Option(string name)
    {
        _read.Add(name);
        if (_options.TryGetValue(name, out var value) && value is null)
        {
            throw new UsageException($"--{name} needs a value.");
        }

        return value;
    }

    /// <summary>
    /// The option as a moment (see <see cref="ZonedTime.TryParse"/>): with an offset that instant, without one wall-clock
    /// time in <paramref name="zone"/>; null when not given, a usage error naming the option when unreadable or ambiguous.
    /// </summary>
    public DateTimeOffset? Instant(string name, TimeZoneInfo zone)
    {
        var text = Option(name);
        if (text is null)
        {
            return null;
        }

        return ZonedTime.TryParse(text, zone, "--" + name, out var instant, out var problem) ? instant : throw new UsageException(problem!);
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    /// <summary>Call after reading every option: an option nobody asked for is a usage error, as are extra arguments.</summary>
    public void EnsureNoOthers(int positionalCount)
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"Unknown option --{unknown[0]}.");
        }

        if (Positional.Count > positionalCount)
        {
            throw new UsageException($"Unexpected argument '{Positional[positionalCount]}'.");
        }
    }
}
