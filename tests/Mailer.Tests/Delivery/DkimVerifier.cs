using System.Text.Json;
using Mailer.Tests.Support;

namespace Mailer.Tests.Delivery;

/// <summary>One DKIM-Signature of one message as dkimpy judged it.</summary>
public sealed record DkimVerdict(bool Valid, string Algorithm, string Domain, string Selector, string Headers, string Log);

/// <summary>
/// A DKIM verifier that is not MimeKit: Debian's python3-dkim (dkimpy), run with Debian's <c>/usr/bin/python3</c>.
/// Its DNS lookups are answered from <c>records</c> (<c>selector._domainkey.domain</c> → TXT value), so it checks the
/// raw bytes against the public keys exactly as a receiving server would, without a network.
/// </summary>
public static class DkimVerifier
{
    public const string Python = "/usr/bin/python3";

    private const string Script = """
        import json, logging, io, sys
        import dkim

        records = {k.lower().rstrip('.'): v for k, v in json.load(open(sys.argv[1])).items()}

        def dns(name, timeout=5):
            name = name.decode('ascii') if isinstance(name, bytes) else name
            value = records.get(name.lower().rstrip('.'))
            return value.encode('ascii') if value else None

        results = []
        for path in sys.argv[2:]:
            message = open(path, 'rb').read()
            verdicts = []
            count = sum(1 for line in message.split(b'\r\n\r\n', 1)[0].split(b'\r\n') if line.lower().startswith(b'dkim-signature:'))
            for index in range(count):
                log = io.StringIO()
                logger = logging.getLogger('dkim-%d' % len(verdicts))
                logger.handlers = [logging.StreamHandler(log)]
                logger.setLevel(logging.DEBUG)
                logger.propagate = False
                d = dkim.DKIM(message, logger=logger)
                try:
                    valid = bool(d.verify(idx=index, dnsfunc=dns))
                except dkim.DKIMException as e:
                    valid = False
                    log.write('exception: %s\n' % e)
                fields = d.signature_fields or {}
                get = lambda key: fields.get(key, b'').decode('ascii', 'replace')
                verdicts.append({'Valid': valid, 'Algorithm': get(b'a'), 'Domain': get(b'd'), 'Selector': get(b's'),
                                 'Headers': get(b'h'), 'Log': log.getvalue()[-2000:]})
            results.append(verdicts)
        print('RESULT ' + json.dumps(results))
        """;

    /// <summary>The path of Debian's python3 with the dkim module, or a skip (a failure under CI=true).</summary>
    public static async Task<string> RequireAsync()
    {
        var python = ExternalProgram.Require(Python, "python3-dkim");
        var (exitCode, output) = await ExternalProgram.RunAsync(python, ["-c", "import dkim, nacl"]);
        if (exitCode != 0)
        {
            ExternalProgram.SkipOrFail($"{python} cannot import dkim and nacl (apt-get install python3-dkim python3-nacl): {output}");
        }

        return python;
    }

    /// <summary>The verdicts of every DKIM-Signature of every message, in order.</summary>
    public static async Task<IReadOnlyList<IReadOnlyList<DkimVerdict>>> VerifyAsync(IReadOnlyDictionary<string, string> records, IReadOnlyList<byte[]> messages)
    {
        var python = await RequireAsync();
        var directory = TestPaths.NewTemporaryDirectory("dkim-verify");
        try
        {
            var script = Path.Combine(directory, "verify.py");
            await File.WriteAllTextAsync(script, Script);
            var recordsFile = Path.Combine(directory, "records.json");
            await File.WriteAllTextAsync(recordsFile, JsonSerializer.Serialize(records));
            var paths = new List<string>();
            for (var i = 0; i < messages.Count; i++)
            {
                var path = Path.Combine(directory, $"message-{i}.eml");
                await File.WriteAllBytesAsync(path, messages[i]);
                paths.Add(path);
            }

            var (exitCode, output) = await ExternalProgram.RunAsync(python, [script, recordsFile, .. paths], timeout: TimeSpan.FromMinutes(2));
            // RunAsync returns stdout and stderr together: the result is the line that starts with the marker.
            var result = output.Split('\n').FirstOrDefault(line => line.StartsWith("RESULT ", StringComparison.Ordinal));
            Assert.True(exitCode == 0 && result is not null, $"dkimpy failed: {output}");
            return JsonSerializer.Deserialize<List<List<DkimVerdict>>>(result["RESULT ".Length..])!;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The verdicts of one message.</summary>
    public static async Task<IReadOnlyList<DkimVerdict>> VerifyAsync(IReadOnlyDictionary<string, string> records, byte[] message) =>
        (await VerifyAsync(records, [message]))[0];
}
