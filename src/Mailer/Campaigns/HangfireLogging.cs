using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace Mailer.Campaigns;

/// <summary>
/// Hangfire logs through one static provider, which Hangfire.AspNetCore points at the logger factory of the last host
/// that started. Where several hosts share a process (the tests' instances of a scale-out), a host that stops disposes
/// that factory while the others run on, and every log call of their workers (Hangfire.PostgreSql logs on each fetch)
/// would throw, leaving the workers to retry for minutes. Here such a log line is dropped instead.
/// </summary>
internal sealed class HangfireLogging(ILoggerFactory factory) : ILogProvider
{
    private readonly AspNetCoreLogProvider _host = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return new SurvivingLog(_host.GetLogger(name));
        }
        catch (ObjectDisposedException)
        {
            return new SurvivingLog(null);
        }
    }

    private sealed class SurvivingLog(ILog? host) : ILog
    {
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                return host?.Log(logLevel, messageFunc, exception) ?? false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
