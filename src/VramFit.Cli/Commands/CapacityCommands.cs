using System.CommandLine;
using System.Globalization;
using VramFit.Cli.Rendering;
using VramFit.Planning;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit max-context</c> and <c>vramfit max-concurrency</c>: direct answers for one configuration.</summary>
internal static class CapacityCommands
{
    public static Command MaxContext(CliContext context) => Create(context, "max-context",
        "The longest context (tokens per sequence) that fits for this configuration", concurrency: false);

    public static Command MaxConcurrency(CliContext context) => Create(context, "max-concurrency",
        "The most sequences served at once at this context that fit", concurrency: true);

    private static Command Create(CliContext context, string name, string description, bool concurrency)
    {
        var options = new EngineOptions();
        var margin = new Option<double>("--margin") { Description = "Fraction of each GPU kept free", DefaultValueFactory = _ => 0.05 };
        var json = new Option<bool>("--json") { Description = "Print {\"value\": N, \"explanation\": …}" };
        var command = new Command(name, description);
        options.AddTo(command);
        command.Add(margin);
        command.Add(json);
        command.SetAction(parse =>
        {
            var input = options.Input(parse);
            var request = input.ToRequest();
            var engine = input.ResolveEngine(request.Model);
            var answer = concurrency
                ? CapacitySearch.MaxConcurrency(engine, request, parse.GetValue(margin))
                : CapacitySearch.MaxContext(engine, request, parse.GetValue(margin));
            if (parse.GetValue(json))
            {
                context.Out.WriteLine($"{{\"value\": {answer.Value.ToString(CultureInfo.InvariantCulture)}, \"explanation\": {System.Text.Json.JsonSerializer.Serialize(answer.Explanation, Reports.ReportJsonContext.Relaxed.String)}}}");
            }
            else
            {
                context.Out.WriteLine($"{(concurrency ? "max concurrency" : "max context")}: {answer.Value.ToString("N0", CultureInfo.InvariantCulture)} ({answer.Explanation})");
                if (answer.Report is { } report && answer.Value > 0)
                    ReportView.Render(context.Console, report, null, explain: false);
            }

            return answer.Value > 0 ? 0 : 1;
        });
        return command;
    }
}
