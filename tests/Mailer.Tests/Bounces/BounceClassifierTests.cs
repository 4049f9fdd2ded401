using Mailer.Bounces;

namespace Mailer.Tests.Bounces;

/// <summary>Each row of the classification table, on the samples and on status codes alone.</summary>
public sealed class BounceClassifierTests
{
    [Theory]
    [InlineData("postfix-unknown-user.mime", BounceKind.Hard, "dsn", "5.1.1")]
    [InlineData("postfix-3.7-virtual-unknown-user.mime", BounceKind.Hard, "dsn", "5.1.1")]
    [InlineData("no-such-domain-5.4.4.mime", BounceKind.Hard, "dsn", "5.4.4")]
    [InlineData("rfc3464-mailbox-full.mime", BounceKind.Soft, "dsn", "5.2.2")]
    [InlineData("postfix-delayed.mime", BounceKind.Soft, "dsn", "4.4.1")]
    [InlineData("postfix-expired-4xx.mime", BounceKind.Soft, "dsn", "4.4.1")]
    [InlineData("policy-5.7.26-dmarc.mime", BounceKind.Policy, "dsn", "5.7.26")]
    [InlineData("arf-abuse.mime", BounceKind.Complaint, "arf", null)]
    [InlineData("arf-abuse-enclosed-only.mime", BounceKind.Complaint, "arf", null)]
    [InlineData("out-of-office.mime", BounceKind.AutoReply, "autoreply", null)]
    [InlineData("automatic-reply-subject-only.mime", BounceKind.AutoReply, "autoreply", null)]
    public void Sample_IsClassifiedByTheTable(string sample, BounceKind kind, string source, string? status)
    {
        var report = BounceClassifier.Classify(BounceSamples.Load(sample));

        Assert.NotNull(report);
        Assert.Equal(kind, report.Kind);
        Assert.Equal(source, report.Source);
        Assert.Equal(status, report.Status);
    }

    [Theory]
    [InlineData("delivered-notice.mime")]
    [InlineData("human-reply.mime")]
    public void Sample_ThatReportsNoFailure_IsNoReport(string sample) =>
        Assert.Null(BounceClassifier.Classify(BounceSamples.Load(sample)));

    [Theory]
    [InlineData("postfix-unknown-user.mime")]
    [InlineData("postfix-3.7-virtual-unknown-user.mime")]
    [InlineData("rfc3464-mailbox-full.mime")]
    [InlineData("policy-5.7.26-dmarc.mime")]
    [InlineData("arf-abuse.mime")]
    [InlineData("arf-abuse-enclosed-only.mime")]
    [InlineData("out-of-office.mime")]
    public void Sample_NamesItsMessageThroughTheTag(string sample)
    {
        var tag = new Mailer.Bounces.BounceTag(BounceTagKind.Delivery, 4711);
        var report = BounceClassifier.Classify(BounceSamples.Load(sample, tag))!;

        var found = report.TagCandidates.Select(c => BounceSamples.ReturnPath.TryRead(c, out var t) ? t : (BounceTag?)null).FirstOrDefault(t => t is not null);
        Assert.Equal(tag, found);
    }

    [Fact]
    public void Dsn_KeepsTheRemoteServersWordsAsDiagnostic()
    {
        var report = BounceClassifier.Classify(BounceSamples.Load("rfc3464-mailbox-full.mime"))!;

        Assert.Equal("SMTP; 552 5.2.2 Mailbox full, quota exceeded", report.Diagnostic);
    }

    [Theory]
    [InlineData("5.1.1", "failed", BounceKind.Hard)]
    [InlineData("5.1.2", "failed", BounceKind.Hard)]
    [InlineData("5.1.10", "failed", BounceKind.Hard)]
    [InlineData("5.4.4", "failed", BounceKind.Hard)]
    [InlineData("5.2.2", "failed", BounceKind.Soft)]
    [InlineData("5.2.1", "failed", BounceKind.Soft)]
    [InlineData("5.3.4", "failed", BounceKind.Soft)]
    [InlineData("4.2.2", "failed", BounceKind.Soft)]
    [InlineData("4.7.1", "failed", BounceKind.Soft)]
    [InlineData("5.1.1", "delayed", BounceKind.Soft)]
    [InlineData("4.4.1", "delayed", BounceKind.Soft)]
    [InlineData("5.7.1", "failed", BounceKind.Policy)]
    [InlineData("5.7.26", "failed", BounceKind.Policy)]
    [InlineData(null, "failed", BounceKind.Soft)]
    public void Status_AndAction_GiveTheKind(string? status, string action, BounceKind kind) =>
        Assert.Equal(kind, BounceClassifier.KindOf(status, action));

    [Theory]
    [InlineData("2.0.0", "delivered")]
    [InlineData("2.1.5", "relayed")]
    [InlineData("2.0.0", "expanded")]
    [InlineData("2.0.0", "failed")]
    public void Status_ThatIsNoFailure_GivesNothing(string status, string action) =>
        Assert.Null(BounceClassifier.KindOf(status, action));

    [Theory]
    [InlineData("550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown", BounceKind.Hard, "5.1.1")]
    [InlineData("552 5.2.2 Mailbox full", BounceKind.Soft, "5.2.2")]
    [InlineData("550 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org", BounceKind.Policy, "5.7.1")]
    public void SmtpRefusal_AtSendTime_IsClassifiedByTheSameTable(string reply, BounceKind kind, string status)
    {
        var report = BounceClassifier.FromSmtpReply(reply)!;

        Assert.Equal(kind, report.Kind);
        Assert.Equal(status, report.Status);
        Assert.Equal("smtp", report.Source);
    }

    [Theory]
    [InlineData("550 Mailbox unavailable")]
    [InlineData("not supported by the server: SMTPUTF8")]
    public void SmtpRefusal_WithoutEnhancedStatus_IsNoReport(string reply) =>
        Assert.Null(BounceClassifier.FromSmtpReply(reply));
}
