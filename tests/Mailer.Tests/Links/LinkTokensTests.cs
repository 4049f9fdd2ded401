using Mailer.Links;
using Mailer.Subscribers;
using Microsoft.Extensions.Time.Testing;

namespace Mailer.Tests.Links;

public class LinkTokensTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Fact]
    public void Token_HasExactlyOneSpelling_NoOtherLastCharacterIsAccepted()
    {
        var tokens = new LinkTokens(new SigningKey("0123456789abcdef0123456789abcdef"u8.ToArray()), new FakeTimeProvider());
        for (long subscriber = 1; subscriber <= 40; subscriber++)
        {
            var token = tokens.Issue(TokenPurpose.Unsubscribe, subscriber);
            var dot = token.IndexOf('.');
            foreach (var position in new[] { dot - 1, token.Length - 1 })
            {
                foreach (var other in Alphabet.Where(c => c != token[position]))
                {
                    var changed = token[..position] + other + token[(position + 1)..];
                    Assert.True(tokens.Check(changed, TokenPurpose.Unsubscribe, out _) == TokenCheck.Invalid, $"{changed} was accepted for {token}");
                }
            }
        }
    }

    [Fact]
    public void Token_IsBoundToItsPurposeSubscriberAndKey()
    {
        var time = new FakeTimeProvider();
        var tokens = new LinkTokens(new SigningKey("0123456789abcdef0123456789abcdef"u8.ToArray()), time);
        var otherKey = new LinkTokens(new SigningKey("fedcba9876543210fedcba9876543210"u8.ToArray()), time);
        var token = tokens.Issue(TokenPurpose.Done, 7);

        Assert.Equal(TokenCheck.Valid, tokens.Check(token, TokenPurpose.Done, out var claim));
        Assert.Equal(7, claim.SubscriberId);
        Assert.Equal(TokenCheck.Invalid, tokens.Check(token, TokenPurpose.Unsubscribe, out _));
        Assert.Equal(TokenCheck.Invalid, otherKey.Check(token, TokenPurpose.Done, out _));
    }

    [Fact]
    public void ConfirmToken_ExpiresAtItsTime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 10, 10, 0, 0, TimeSpan.Zero));
        var tokens = new LinkTokens(new SigningKey("0123456789abcdef0123456789abcdef"u8.ToArray()), time);
        var token = tokens.Issue(TokenPurpose.Confirm, 3, time.GetUtcNow() + TimeSpan.FromDays(7));

        time.Advance(TimeSpan.FromDays(7));
        Assert.Equal(TokenCheck.Valid, tokens.Check(token, TokenPurpose.Confirm, out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenCheck.Expired, tokens.Check(token, TokenPurpose.Confirm, out var claim));
        Assert.Equal(3, claim.SubscriberId);
    }
}
