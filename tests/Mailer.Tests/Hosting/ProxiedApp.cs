using Dapper;
using Mailer.Storage;
using Mailer.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Mailer.Tests.Hosting;

/// <summary>A Mailer listening on a real Kestrel port of 127.0.0.1, with a real nginx in front (<see cref="NginxProxy"/>).</summary>
internal sealed class ProxiedApp : IAsyncDisposable
{
    private ProxiedApp(MailerAppFactory app, NginxProxy nginx, Uri direct, PostgresTestDatabase? postgres)
    {
        App = app;
        Nginx = nginx;
        Direct = direct;
        Postgres = postgres;
    }

    public MailerAppFactory App { get; }

    public NginxProxy Nginx { get; }

    /// <summary>Mailer's own address, past the proxy.</summary>
    public Uri Direct { get; }

    private PostgresTestDatabase? Postgres { get; }

    /// <summary>Starts Mailer (with <paramref name="settings"/>, on PostgreSQL when asked) and nginx in front of it.</summary>
    public static async Task<ProxiedApp> StartAsync(Dictionary<string, string?> settings, string provider = "Sqlite")
    {
        var postgres = provider == "PostgreSql" ? await PostgresTestDatabase.CreateAsync() : null;
        var app = new MailerAppFactory();
        foreach (var (key, value) in settings)
        {
            app.Settings[key] = value;
        }

        foreach (var (key, value) in postgres?.Settings(hangfire: false) ?? [])
        {
            app.Settings[key] = value;
        }

        app.UseKestrel(0);
        app.StartServer();
        var direct = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var nginx = await NginxProxy.StartAsync(direct.Port);
        return new ProxiedApp(app, nginx, new Uri($"http://127.0.0.1:{direct.Port}"), postgres);
    }

    /// <summary>A visitor at <paramref name="source"/> (a loopback address such as 127.0.0.2) who goes through nginx.</summary>
    public HttpClient ThroughNginx(string source) => NginxProxy.ClientFrom(source, Nginx.BaseAddress);

    /// <summary>A client at <paramref name="source"/> that talks to Mailer straight, not through nginx.</summary>
    public HttpClient Straight(string source) => NginxProxy.ClientFrom(source, Direct);

    /// <summary>The address the consent record of <paramref name="email"/> holds.</summary>
    public async Task<string?> ConsentIpAsync(string email)
    {
        var subscriber = await App.Store.FindByEmailAsync(email, TestContext.Current.CancellationToken);
        Assert.NotNull(subscriber);
        await using var connection = await App.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.QuerySingleAsync<string?>("SELECT client_ip FROM consents WHERE subscriber_id = @Id", new { subscriber.Id });
    }

    public async ValueTask DisposeAsync()
    {
        await Nginx.DisposeAsync();
        await App.DisposeAsync();
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
