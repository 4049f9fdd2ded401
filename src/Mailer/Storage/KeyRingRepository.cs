using System.Data.Common;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Mailer.Storage;

/// <summary>
/// Keeps ASP.NET Core's data-protection key ring (the keys behind the confirm and unsubscribe buttons' antiforgery tokens) in the store.
/// A restart keeps the keys, and every instance on one PostgreSQL database reads the same ring, so a form opened on one
/// instance can be sent to another. Data protection asks seldom (at start, when a key is due) and synchronously.
/// </summary>
public sealed class KeyRingRepository(Database database, TimeProvider time) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = Open();
        return connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, name")
            .Select(xml => XElement.Parse(xml))
            .ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = Open();
        connection.Execute(
            "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@Name, @Xml, @At) ON CONFLICT (name) DO NOTHING",
            new { Name = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting), At = time.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    private DbConnection Open() => database.OpenAsync().GetAwaiter().GetResult();
}
