using Npgsql;

namespace Mailer.Tests.Support;

/// <summary>
/// A PostgreSQL server of the test's own (Debian's <c>postgresql-15</c>), not the shared one that
/// <c>MAILER_TEST_POSTGRES</c> names: a cluster made with <c>initdb</c> in a temporary folder, listening on 127.0.0.1 at
/// a free port, which the test may stop and start again as an operator's restart or a failover would. Run as the
/// <c>postgres</c> user when the tests run as root (PostgreSQL refuses to run as root). Skips without the binaries (fails
/// under <c>CI=true</c>).
/// <code>
/// await using var postgres = await PostgresServer.StartAsync();
/// await postgres.StopAsync(); ... await postgres.StartAgainAsync();
/// </code>
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _folder;
    private readonly string _pgCtl;

    private PostgresServer(string folder, string pgCtl, int port)
    {
        _folder = folder;
        _pgCtl = pgCtl;
        Port = port;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    public int Port { get; }

    public string ConnectionString { get; }

    /// <summary>PostgreSQL will not run as root: then its programs run as the <c>postgres</c> user the package made.</summary>
    private static bool PostgresUser => Environment.UserName == "root";

    private string DataFolder => Path.Combine(_folder, "data");

    private string LogFile => Path.Combine(_folder, "postgres.log");

    public static async Task<PostgresServer> StartAsync()
    {
        var initdb = ExternalProgram.Require($"{Bin}/initdb", "postgresql-15");
        var pgCtl = ExternalProgram.Require($"{Bin}/pg_ctl", "postgresql-15");
        var folder = TestPaths.NewTemporaryDirectory("postgres");
        if (PostgresUser)
        {
            var (exitCode, output) = await RunAsync("/usr/bin/chown", ["postgres:postgres", folder]);
            Assert.True(exitCode == 0, $"chown postgres {folder}: {output}");
        }

        var server = new PostgresServer(folder, pgCtl, ExternalProgram.FreePort());
        await AsPostgresAsync(initdb, ["-D", server.DataFolder, "-A", "trust", "-U", "postgres", "--no-sync"]);
        // Its socket in the test's folder, not /var/run/postgresql; fsync off: a test's data need not survive the machine.
        await File.AppendAllTextAsync(Path.Combine(server.DataFolder, "postgresql.conf"), $"""

            port = {server.Port}
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{folder}'
            fsync = off
            max_connections = 200

            """);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Stops the server as an operator's restart does (<c>-m fast</c>: open sessions are ended at once).</summary>
    public Task StopAsync() => AsPostgresAsync(_pgCtl, ["-D", DataFolder, "-m", "fast", "-w", "stop"]);

    /// <summary>Starts the (stopped) server again on the same port and waits until it takes connections.</summary>
    public async Task StartAgainAsync()
    {
        await AsPostgresAsync(_pgCtl, ["-D", DataFolder, "-l", LogFile, "-w", "-t", "60", "start"]);
        await using var probe = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await probe.OpenAsync();
    }

    /// <summary>What the server logged, for a failure message.</summary>
    public string Log() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public async ValueTask DisposeAsync()
    {
        // Whether it runs or not: a test that failed half-way may have left it stopped.
        await RunAsPostgresAsync(_pgCtl, ["-D", DataFolder, "-m", "immediate", "-w", "stop"]);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Runs a PostgreSQL program, as the <c>postgres</c> user if the tests run as root; throws if it fails.</summary>
    private static async Task AsPostgresAsync(string program, string[] arguments)
    {
        var (exitCode, output) = await RunAsPostgresAsync(program, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {exitCode}: {output}");
        }
    }

    private static Task<(int ExitCode, string Output)> RunAsPostgresAsync(string program, string[] arguments) =>
        PostgresUser
            ? RunAsync("/usr/sbin/runuser", ["-u", "postgres", "--", program, .. arguments])
            : RunAsync(program, arguments);

    // From /, so that the postgres user is not left in a folder it may not read (a 0700 clone).
    private static Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments) =>
        ExternalProgram.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(120), workingDirectory: "/");
}
