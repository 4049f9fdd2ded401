using System.ComponentModel.DataAnnotations;
using Mailer.Subscribers;

namespace Mailer.Tests.Subscribers;

public class SubscribersOptionsTests
{
    [Fact]
    public void KeepLinkEventsFor_DefaultsToNinetyDays()
    {
        Assert.Equal(TimeSpan.FromDays(90), new SubscribersOptions().KeepLinkEventsFor);
        Assert.Empty(Problems(new SubscribersOptions()));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("23:59:59")]
    [InlineData("-90.00:00:00")]
    [InlineData("3651.00:00:00")]
    public void KeepLinkEventsFor_OutOfRange_IsRefusedNamingTheKey(string value)
    {
        var problems = Problems(new SubscribersOptions { KeepLinkEventsFor = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Contains("Subscribers:KeepLinkEventsFor must be between 1.00:00:00 and 3650.00:00:00 (e.g. 90.00:00:00).", problems);
    }

    private static List<string?> Problems(SubscribersOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage)];
    }
}
