using Mailer.Campaigns;
using Mailer.Cli;

namespace Mailer.Bounces;

/// <summary><c>resume &lt;mailing&gt;</c>: continues a mailing the circuit breaker paused; its hard bounces count anew from now.</summary>
public sealed class ResumeCommand(MailingBreaker breaker, CampaignClock clock) : IOperatorCommand
{
    public string Verb => "resume";

    public string Usage => "resume <mailing>";

    public async Task<int> RunAsync(CommandArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var mailing = arguments.Required(0, "mailing");
        arguments.EnsureNoOthers(1);
        if ((await clock.MailingsAsync(cancellationToken)).All(m => m.Mailing != mailing))
        {
            throw new UsageException($"No mailing '{mailing}'.");
        }

        var resumed = await breaker.ResumeAsync(mailing, cancellationToken);
        await output.WriteLineAsync(resumed ? $"{mailing}: resumed; the next dispatch sends the rest." : $"{mailing} was not paused.");
        return 0;
    }
}
