using System.CommandLine;
using VramFit.Web;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit serve</c>: the local web page and JSON API.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 5005 };
        var host = new Option<string>("--host") { Description = "Address to bind (loopback by default)", DefaultValueFactory = _ => "127.0.0.1" };
        var remote = new Option<bool>("--allow-remote") { Description = "Allow a non-loopback --host (the API has no authentication)" };
        var command = new Command("serve", "Serve the estimator in the browser (and its JSON API) on this machine");
        command.Add(port);
        command.Add(host);
        command.Add(remote);
        command.SetAction(async (parse, cancel) =>
        {
            var options = new WebOptions { Port = parse.GetValue(port), Host = parse.GetValue(host)!, AllowRemote = parse.GetValue(remote) };
            await using var app = WebServer.Build(options);
            await app.StartAsync(cancel);
            context.Out.WriteLine($"VramFit is serving on {WebServer.Address(app)} (Ctrl-C to stop)");
            try
            {
                await Task.Delay(Timeout.Infinite, cancel);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}
