using Mailer.Bounces;
using Mailer.Links;
using Mailer.Subscribers;
using Microsoft.Extensions.Options;

namespace Mailer.Tests.Bounces;

public sealed class ReturnPathTests
{
    private static ReturnPath Tags(string? returnPath = "bounces@example.org", string key = "test-signing-key-0123456789abcdef0123456789") =>
        new(Options.Create(new BouncesOptions { ReturnPath = returnPath }), new SigningKey(System.Text.Encoding.UTF8.GetBytes(key)));

    [Theory]
    [InlineData(BounceTagKind.Delivery, 1)]
    [InlineData(BounceTagKind.Delivery, 9_223_372_036_854_775_807)]
    [InlineData(BounceTagKind.Confirmation, 42)]
    public void Tag_ReadsBackAsWhatItNames(BounceTagKind kind, long id)
    {
        var tags = Tags();
        var address = tags.Address(new BounceTag(kind, id))!;

        Assert.True(tags.TryRead(address, out var tag));
        Assert.Equal(new BounceTag(kind, id), tag);
        Assert.Matches("^bounces\\+[cd][0-9]+-[a-z2-7]{10}@example\\.org$", address);
        Assert.True(address.Split('@')[0].Length <= 64, address);
    }

    [Fact]
    public void Tag_ForDeliveryAndConfirmation_DifferForTheSameNumber()
    {
        var tags = Tags();

        Assert.NotEqual(tags.ForDelivery(7), tags.ForConfirmation(7));
        Assert.StartsWith("bounces+d7-", tags.ForDelivery(7));
        Assert.StartsWith("bounces+c7-", tags.ForConfirmation(7));
    }

    [Fact]
    public void Tag_CaseFoldedByARelay_StillReads()
    {
        var tags = Tags("Bounces@Example.org");
        var address = tags.ForDelivery(123)!;

        Assert.True(tags.TryRead(address.ToUpperInvariant(), out var upper));
        Assert.True(tags.TryRead(address.ToLowerInvariant(), out var lower));
        Assert.True(tags.TryRead($"\"Mail Delivery\" <{address}>", out var named));
        Assert.Equal(new BounceTag(BounceTagKind.Delivery, 123), upper);
        Assert.Equal(upper, lower);
        Assert.Equal(upper, named);
    }

    [Fact]
    public void Tag_WithAForgedOrMovedMac_IsRefused()
    {
        var tags = Tags();
        var address = tags.ForDelivery(123)!;
        var local = address.Split('@')[0];
        var mac = local[(local.LastIndexOf('-') + 1)..];
        var flipped = (mac[0] == 'a' ? 'b' : 'a') + mac[1..];

        Assert.False(tags.TryRead(address.Replace(mac, flipped), out _));                      // one letter of the MAC
        Assert.False(tags.TryRead(address.Replace("+d123-", "+d124-"), out _));                 // another row, same MAC
        Assert.False(tags.TryRead(address.Replace("+d123-", "+c123-"), out _));                 // the confirmation of subscriber 123
        Assert.False(tags.TryRead(address.Replace("+d123-", "+d0123-"), out _));                // the same number spelt otherwise
        Assert.False(tags.TryRead(address.Replace(mac, mac[..9]), out _));                      // shortened
        Assert.False(Tags(key: "another-signing-key-0123456789abcdef0123").TryRead(address, out _));
    }

    [Theory]
    [InlineData("bounces@example.net")]
    [InlineData("other+d123-aaaaaaaaaa@example.org")]
    [InlineData("bounces+d123@example.org")]
    [InlineData("bounces+x123-aaaaaaaaaa@example.org")]
    [InlineData("bounces+d-aaaaaaaaaa@example.org")]
    [InlineData("")]
    [InlineData(null)]
    public void NotATag_IsRefused(string? address) =>
        Assert.False(Tags().TryRead(address, out _));

    [Fact]
    public void Tag_ForAnotherDomain_IsRefused()
    {
        var address = Tags().ForDelivery(5)!;

        Assert.False(Tags().TryRead(address.Replace("@example.org", "@example.net"), out _));
    }

    [Fact]
    public void WithoutReturnPath_ThereAreNoTags()
    {
        var tags = Tags(returnPath: null);

        Assert.False(tags.IsEnabled);
        Assert.Null(tags.ForDelivery(1));
        Assert.Null(tags.ForConfirmation(1));
        Assert.False(tags.TryRead(Tags().ForDelivery(1), out _));
    }
}
