using System.Data.Common;
using Dapper;
using Mailer.Subscribers;

namespace Mailer.Storage;

/// <summary>
/// <see cref="ISubscriberStore"/> over plain SQL that SQLite and PostgreSQL both run (<c>ON CONFLICT</c>,
/// <c>RETURNING</c>, <c>||</c>). Decisions that must not race are single conditional statements
/// (<c>UPDATE ... WHERE status = 'pending'</c>) whose row count is the answer; SQLite transactions start
/// with the write lock (Microsoft.Data.Sqlite begins them <c>IMMEDIATE</c>).
/// </summary>
public sealed partial class SubscriberStore(Database database, StoreCampaign? defaultCampaign = null) : ISubscriberStore
{
    // Signups that arrive together share a transaction: at a rush, a commit per signup was the limit.
    private readonly GroupCommit<SignupWrite, SignupResult> _signups = new(database, WriteSignupAsync);

    private readonly string _defaultCampaign = (defaultCampaign ?? StoreCampaign.Default).Name;

    public Task<SignupResult> SignUpAsync(Signup signup, DateTimeOffset now, TimeSpan resendAfter, CancellationToken cancellationToken) =>
        _signups.WriteAsync(new SignupWrite(signup with { Campaign = signup.Campaign ?? _defaultCampaign }, now, resendAfter), cancellationToken);

    private static async Task<SignupResult> WriteSignupAsync(DbConnection connection, DbTransaction transaction, SignupWrite write)
    {
        var (signup, now, resendAfter) = write;
        var at = now.ToUnixTimeMilliseconds();
        var choices = new { signup.Campaign, signup.Email, signup.Locale, Platforms = string.Join(',', signup.Platforms), Now = at };

        // The insert comes first: it takes SQLite's write lock, and it settles a race of two first signups.
        var created = await connection.ExecuteScalarAsync<long?>(Command(InsertPendingSubscriber, choices, transaction));
        SignupResult result;
        if (created is { } newId)
        {
            result = new SignupResult(newId, SignupOutcome.Created, ConfirmationRequested: true);
        }
        else
        {
            var existing = await connection.QuerySingleAsync<(long Id, string Status, long? SuppressedAt)>(
                Command(SelectIdAndStatusByEmail, new { signup.Campaign, signup.Email }, transaction));
            result = ParseStatus(existing.Status) switch
            {
                SubscriberStatus.Confirmed when existing.SuppressedAt is not null => await ReopenAsync(existing.Id, ReopenSuppressed),
                SubscriberStatus.Confirmed => new SignupResult(existing.Id, SignupOutcome.AlreadyConfirmed, false),
                SubscriberStatus.Unsubscribed => await ReopenAsync(existing.Id, ReopenUnsubscribed),
                _ => await RefreshPendingAsync(existing.Id),
            };
        }

        if (result.Outcome != SignupOutcome.AlreadyConfirmed)
        {
            await connection.ExecuteAsync(Command(InsertConsent, new
            {
                SubscriberId = result.SubscriberId,
                Source = signup.Source.ToString().ToLowerInvariant(),
                Version = signup.ConsentTextVersion,
                Now = at,
                signup.ClientIp,
                signup.UserAgent,
                Purpose = "campaign",
            }, transaction));
            if (signup.StandingList)
            {
                // Its own consent, with its own text, confirmed by the same link as the signup.
                await connection.ExecuteAsync(Command(InsertConsent, new
                {
                    SubscriberId = result.SubscriberId,
                    Source = signup.Source.ToString().ToLowerInvariant(),
                    Version = signup.StandingListTextVersion ?? signup.ConsentTextVersion,
                    Now = at,
                    signup.ClientIp,
                    signup.UserAgent,
                    Purpose = "standing-list",
                }, transaction));
            }
        }

        return result;

        async Task<SignupResult> ReopenAsync(long id, string reopen)
        {
            await connection.ExecuteAsync(Command(reopen, new { Id = id, choices.Locale, choices.Platforms, Now = at }, transaction));
            return new SignupResult(id, SignupOutcome.Resubscribed, ConfirmationRequested: true);
        }

        async Task<SignupResult> RefreshPendingAsync(long id)
        {
            await connection.ExecuteAsync(Command(UpdatePendingChoices, new { Id = id, choices.Locale, choices.Platforms }, transaction));
            var requested = await connection.ExecuteAsync(Command(RequestConfirmationIfDue,
                new { Id = id, Now = at, DueBefore = (now - resendAfter).ToUnixTimeMilliseconds() }, transaction));
            return new SignupResult(id, SignupOutcome.StillPending, requested == 1);
        }
    }

    public async Task<Subscriber?> FindAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<SubscriberRow>(
            Command(SelectSubscriberColumns + " WHERE id = @Id", new { Id = subscriberId }, null, cancellationToken));
        return row?.ToSubscriber();
    }

    public async Task<Subscriber?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken, string? campaign = null)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<SubscriberRow>(
            Command(SelectSubscriberColumns + " WHERE campaign = @Campaign AND email = @Email", new { Campaign = campaign ?? _defaultCampaign, Email = normalizedEmail }, null, cancellationToken));
        return row?.ToSubscriber();
    }

    public async Task<ConfirmOutcome> ConfirmAsync(long subscriberId, DateTimeOffset at, string? clientIp, CancellationToken cancellationToken)
    {
        var parameters = new { Id = subscriberId, At = at.ToUnixTimeMilliseconds(), ClientIp = clientIp };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await connection.ExecuteAsync(Command(ConfirmPending, parameters, transaction, cancellationToken)) == 1)
        {
            await connection.ExecuteAsync(Command(RecordConfirmationOnLatestOpenConsent, parameters, transaction, cancellationToken));
            await connection.ExecuteAsync(Command(JoinStandingListIfConsented, parameters, transaction, cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return ConfirmOutcome.Confirmed;
        }

        var status = await connection.QuerySingleOrDefaultAsync<string>(Command(SelectStatus, parameters, transaction, cancellationToken));
        return status is null ? ConfirmOutcome.NotFound
            : ParseStatus(status) == SubscriberStatus.Confirmed ? ConfirmOutcome.AlreadyConfirmed
            : ConfirmOutcome.Unsubscribed;
    }

    public async Task<bool> UnsubscribeAsync(long subscriberId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parameters = new { Id = subscriberId, At = at.ToUnixTimeMilliseconds() };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(Command(UnsubscribeSubscriber, parameters, transaction, cancellationToken)) == 1;
        if (changed)
        {
            await connection.ExecuteAsync(Command(WithdrawOpenConsents, parameters, transaction, cancellationToken));
            await connection.ExecuteAsync(Command(WithdrawStandingListIfInvitationDeclined, parameters, transaction, cancellationToken));
            await connection.ExecuteAsync(Command(LeaveStandingListIfInvitationDeclined, parameters, transaction, cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    public async Task<IReadOnlyList<long>> InviteStandingListAsync(string campaign, IReadOnlyCollection<string> platforms, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = new { Campaign = campaign, Platforms = string.Join(',', platforms), Now = now.ToUnixTimeMilliseconds() };
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var invited = (await connection.QueryAsync<long>(Command(InviteStandingList, parameters, transaction, cancellationToken))).ToList();
        foreach (var id in invited)
        {
            await connection.ExecuteAsync(Command(InsertInvitationConsent, new { Id = id, parameters.Now }, transaction, cancellationToken));
        }

        await connection.ExecuteAsync(Command(RecordInvited,
            new { Name = InvitedKey(campaign), Value = parameters.Now.ToString(System.Globalization.CultureInfo.InvariantCulture) }, transaction, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return invited;
    }

    public async Task<bool> InvitedAsync(string campaign, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(Command(CountInvited, new { Name = InvitedKey(campaign) }, null, cancellationToken)) > 0;
    }

    private static string InvitedKey(string campaign) => "invited:" + campaign;

    public async Task<int> UnsubscribeEverywhereAsync(long subscriberId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var left = 0;
        foreach (var id in await connection.QueryAsync<long>(Command(SubscriptionsOfSameAddress, new { Id = subscriberId }, transaction, cancellationToken)))
        {
            var parameters = new { Id = id, At = at.ToUnixTimeMilliseconds() };
            if (await connection.ExecuteAsync(Command(UnsubscribeSubscriber, parameters, transaction, cancellationToken)) == 1)
            {
                left++;
            }

            await connection.ExecuteAsync(Command(WithdrawOpenConsents, parameters, transaction, cancellationToken));
            await connection.ExecuteAsync(Command(LeaveStandingList, parameters, transaction, cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return left;
    }

    public async Task<bool> RecordClickAsync(long subscriberId, string platform, DateTimeOffset at, LinkClient client, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(Command(InsertLinkEventUnlessUnsubscribed,
            new { Id = subscriberId, Kind = "click", Platform = platform, At = at.ToUnixTimeMilliseconds(), ClientIp = client.Ip, client.UserAgent },
            null, cancellationToken)) == 1;
    }

    public async Task<bool> MarkDoneAsync(long subscriberId, string platform, DateTimeOffset at, LinkClient client, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Read, add, write back only if nobody changed the list in between (PostgreSQL does not lock the read).
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = await connection.QuerySingleOrDefaultAsync<string>(
                Command(SelectDonePlatformsUnlessUnsubscribed, new { Id = subscriberId }, transaction, cancellationToken));
            var done = SplitList(before);
            if (before is null || done.Contains(platform))
            {
                return false;
            }

            var updated = await connection.ExecuteAsync(Command(UpdateDonePlatformsIfUnchanged,
                new { Id = subscriberId, Before = before, Done = string.Join(',', done.Append(platform)) }, transaction, cancellationToken));
            if (updated == 1)
            {
                await connection.ExecuteAsync(Command(InsertLinkEventUnlessUnsubscribed,
                    new { Id = subscriberId, Kind = "done", Platform = platform, At = at.ToUnixTimeMilliseconds(), ClientIp = client.Ip, client.UserAgent },
                    transaction, cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                return true;
            }
        }

        return false;
    }

    public async Task<ConfirmationClaim?> ClaimConfirmationAsync(long subscriberId, DateTimeOffset now, TimeSpan lease, DateTimeOffset requestedAfter,
        CancellationToken cancellationToken)
    {
        var until = now + lease;
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        var requestedAt = await connection.QuerySingleOrDefaultAsync<long?>(Command(ClaimConfirmation, new
        {
            Id = subscriberId,
            Now = now.ToUnixTimeMilliseconds(),
            Until = until.ToUnixTimeMilliseconds(),
            RequestedAfter = requestedAfter.ToUnixTimeMilliseconds(),
        }, null, cancellationToken));
        return requestedAt is { } at ? new ConfirmationClaim(subscriberId, Time(at), until) : null;
    }

    public async Task<bool> MarkConfirmationSentAsync(ConfirmationClaim claim, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            Id = claim.SubscriberId,
            RequestedAt = claim.RequestedAt.ToUnixTimeMilliseconds(),
            Until = claim.Until.ToUnixTimeMilliseconds(),
            SentAt = sentAt.ToUnixTimeMilliseconds(),
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        if (await connection.ExecuteAsync(Command(MarkConfirmationSent, parameters, null, cancellationToken)) == 1)
        {
            return true;
        }

        await connection.ExecuteAsync(Command(ReleaseConfirmationClaim, parameters, null, cancellationToken));
        return false;
    }

    public async Task ReleaseConfirmationClaimAsync(ConfirmationClaim claim, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        await connection.ExecuteAsync(Command(ReleaseConfirmationClaim,
            new { Id = claim.SubscriberId, Until = claim.Until.ToUnixTimeMilliseconds() }, null, cancellationToken));
    }

    public async Task<IReadOnlyList<long>> TakeLostConfirmationsAsync(DateTimeOffset now, DateTimeOffset enqueuedBefore, DateTimeOffset requestedAfter, int max,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var turn = await database.EnterWriteAsync(cancellationToken);
        var taken = await connection.QueryAsync<(long Id, long RequestedAt)>(Command(TakeLostConfirmations, new
        {
            Now = now.ToUnixTimeMilliseconds(),
            EnqueuedBefore = enqueuedBefore.ToUnixTimeMilliseconds(),
            RequestedAfter = requestedAfter.ToUnixTimeMilliseconds(),
            Max = max,
        }, null, cancellationToken));
        return [.. taken.OrderBy(t => t.RequestedAt).ThenBy(t => t.Id).Select(t => t.Id)];
    }

    public async Task<IReadOnlyList<Consent>> ConsentsAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ConsentRow>(Command(SelectConsentsOfSubscriber, new { Id = subscriberId }, null, cancellationToken));
        return rows.Select(r => r.ToConsent()).ToList();
    }

    public async Task<IReadOnlyList<LinkEvent>> LinkEventsAsync(long subscriberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<LinkEventRow>(Command(SelectLinkEventsOfSubscriber, new { Id = subscriberId }, null, cancellationToken));
        return rows.Select(r => new LinkEvent(r.Id, r.SubscriberId, r.Kind, r.Platform, Time(r.At))).ToList();
    }

    private static CommandDefinition Command(string sql, object parameters, DbTransaction? transaction, CancellationToken cancellationToken = default) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    private sealed record SignupWrite(Signup Signup, DateTimeOffset Now, TimeSpan ResendAfter);

    internal static SubscriberStatus ParseStatus(string status) => status switch
    {
        "pending" => SubscriberStatus.Pending,
        "confirmed" => SubscriberStatus.Confirmed,
        "unsubscribed" => SubscriberStatus.Unsubscribed,
        _ => throw new InvalidOperationException($"Unknown subscriber status '{status}' in the store."),
    };

    private static List<string> SplitList(string? list) =>
        string.IsNullOrEmpty(list) ? [] : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static DateTimeOffset? Time(long? unixMilliseconds) => unixMilliseconds is { } ms ? Time(ms) : null;

    private sealed class SubscriberRow
    {
        public long Id { get; set; }
        public string Campaign { get; set; } = "";
        public string Email { get; set; } = "";
        public string Locale { get; set; } = "";
        public string Platforms { get; set; } = "";
        public string DonePlatforms { get; set; } = "";
        public string Status { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? ConfirmedAt { get; set; }
        public long? UnsubscribedAt { get; set; }
        public long? ConfirmRequestedAt { get; set; }
        public long? ConfirmSentAt { get; set; }
        public long? InvitedAt { get; set; }

        public Subscriber ToSubscriber() => new(
            Id, Email, Locale, SplitList(Platforms), SplitList(DonePlatforms), ParseStatus(Status), Time(CreatedAt),
            Time(ConfirmedAt), Time(UnsubscribedAt), Time(ConfirmRequestedAt), Time(ConfirmSentAt)) { Campaign = Campaign, InvitedAt = Time(InvitedAt) };
    }

    private sealed class ConsentRow
    {
        public long Id { get; set; }
        public long SubscriberId { get; set; }
        public string Source { get; set; } = "";
        public string ConsentTextVersion { get; set; } = "";
        public long GivenAt { get; set; }
        public string? ClientIp { get; set; }
        public string? UserAgent { get; set; }
        public long? ConfirmedAt { get; set; }
        public string? ConfirmIp { get; set; }
        public long? WithdrawnAt { get; set; }

        public Consent ToConsent() => new(
            Id, SubscriberId, Enum.Parse<ConsentSource>(Source, ignoreCase: true), ConsentTextVersion, Time(GivenAt),
            ClientIp, UserAgent, Time(ConfirmedAt), ConfirmIp, Time(WithdrawnAt));
    }

    private sealed class LinkEventRow
    {
        public long Id { get; set; }
        public long SubscriberId { get; set; }
        public string Kind { get; set; } = "";
        public string Platform { get; set; } = "";
        public long At { get; set; }
    }
}
