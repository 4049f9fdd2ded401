using Dapper;
using Mailer.Storage;
using Npgsql;

namespace Mailer.Tests.Support;

/// <summary>
/// A fresh, empty database <c>mailer_test_&lt;guid&gt;</c> for one test on the PostgreSQL server that
/// <c>MAILER_TEST_POSTGRES</c> names (an Npgsql connection string; its user may create databases), dropped afterwards.
/// Without the variable the test skips and says why; with <c>CI=true</c> it fails instead, because CI has a server and
/// a skip there would hide a broken setup. Every PostgreSQL test comes through here, so that rule lives in one place.
/// <code>
/// await using var postgres = await PostgresTestDatabase.CreateAsync();
/// var storage = postgres.StorageOptions;                 // or postgres.Settings() for a whole host
/// </code>
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    public const string Variable = "MAILER_TEST_POSTGRES";

    private readonly string _server;

    private PostgresTestDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    /// <summary>The server's connection string with this test's database.</summary>
    public string ConnectionString { get; }

    public StorageOptions StorageOptions => new() { Provider = StorageProvider.PostgreSql, ConnectionString = ConnectionString };

    /// <summary>The server to use, or a skip (a failure under <c>CI=true</c>) when there is none.</summary>
    public static string Server()
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(server))
        {
            const string reason = Variable + " is not set (an Npgsql connection string of a PostgreSQL server the tests may create databases on).";
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail("CI=true, so this PostgreSQL test must run: " + reason);
            }

            Assert.Skip(reason);
        }

        return server;
    }

    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var server = Server();
        var database = new PostgresTestDatabase(server, "mailer_test_" + Guid.NewGuid().ToString("N"));
        await using var admin = new NpgsqlConnection(server);
        await admin.ExecuteAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    /// <summary>Configuration keys that point a Mailer host at this database, with Hangfire's jobs there too if <paramref name="hangfire"/>.</summary>
    public IEnumerable<(string Key, string? Value)> Settings(bool hangfire = true)
    {
        yield return ("Storage:Provider", "PostgreSql");
        yield return ("Storage:ConnectionString", ConnectionString);
        if (hangfire)
        {
            yield return ("Hangfire:Storage", "PostgreSql");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // FORCE ends connections a pool still holds (a host that was not disposed, Hangfire's last heartbeat).
        await using var admin = new NpgsqlConnection(_server);
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }
}
