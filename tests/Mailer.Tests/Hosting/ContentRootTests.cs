using Mailer.Hosting;

namespace Mailer.Tests.Hosting;

public class ContentRootTests
{
    [Fact]
    public void RepositoryRoot_IsAHome_AndTheTestOutputIsNot()
    {
        Assert.True(ContentRoot.IsHome(TestPaths.RepositoryRoot));
        Assert.False(ContentRoot.IsHome(Path.Combine(TestPaths.RepositoryRoot, "src")));
    }

    [Fact]
    public void Combine_KeepsAbsolutePaths_AndResolvesRelativeOnes()
    {
        Assert.Equal("/var/mail/outbox", ContentRoot.Combine("/srv/mailer", "/var/mail/outbox"));
        Assert.Equal("/srv/mailer/outbox", ContentRoot.Combine("/srv/mailer", "outbox"));
    }
}
