using Mailer.Bounces;
using Mailer.Campaigns;
using Mailer.Cli;
using Mailer.Delivery;
using Mailer.Hosting;
using Mailer.Links;
using Mailer.Observability;
using Mailer.OperatorData;
using Mailer.Pages;
using Mailer.Rendering;
using Mailer.Signups;
using Mailer.Storage;
using Mailer.Subscribers;

// One program, two faces: with a verb (preview, send-test, status, ...) it is the operators' command line,
// without one it serves the signup endpoints and runs the campaign's jobs.
var command = OperatorCommands.Parse(args);
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = command?.ConfigurationArgs ?? args,
    ContentRootPath = ContentRoot.Resolve(),
});

builder.AddMailerHosting(quiet: command is not null);
builder.AddStorage();
builder.AddRendering();
builder.AddDelivery();
builder.AddSubscribers();
builder.AddPages();
builder.AddSignup();
builder.AddLinks();
builder.AddOperatorData();
builder.AddCampaigns(runJobs: command is null);
builder.AddBounces(runJobs: command is null);
builder.AddObservability();
builder.AddOperatorCommands();

var app = builder.Build();
if (command is not null)
{
    return await OperatorCommands.RunAsync(app, command);
}

app.MapMailerHosting();
app.MapStorage();
app.MapSignup();
app.MapLinks();
app.MapCampaigns();
app.MapBounces();
app.MapObservability();
await app.RunAsync();
return 0;

public partial class Program;
