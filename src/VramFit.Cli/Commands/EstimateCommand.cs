using System.CommandLine;
using Spectre.Console;
using VramFit.Cli.Rendering;
using VramFit.Engines;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit estimate</c>: the itemized memory of one model on one engine and GPU setup.</summary>
internal static class EstimateCommand
{
    public static Command Create(CliContext context)
    {
        var options = new EngineOptions();
        var json = new Option<bool>("--json") { Description = "Print one JSON document (camelCase, sizes in bytes)" };
        var explain = new Option<bool>("--explain") { Description = "Show every item's formula, inputs and source" };
        var method = new Option<string>("--method")
        {
            Description = "precise (the engine's rules) or rule-of-thumb (also print the quick formula beside it)",
            DefaultValueFactory = _ => "precise",
        };
        method.AcceptOnlyFromAmong("precise", "rule-of-thumb");
        var command = new Command("estimate", "Estimate the memory a model needs on an engine and GPUs, itemized");
        options.AddTo(command);
        command.Add(json);
        command.Add(explain);
        command.Add(method);
        command.SetAction(parse =>
        {
            using var progress = DownloadProgress.For(context.Error);
            var input = options.Input(parse, progress);
            var request = input.ToRequest();
            var report = input.ResolveEngine(request.Model).Estimate(request);
            if (request.Model.Source is { } origin && origin.StartsWith(ModelCatalog.DerivedSourcePrefix, StringComparison.Ordinal))
                report = report with { Notes = report.Notes.Insert(0, "model: " + origin) };
            MemoryReport? rule = parse.GetValue(method) == "rule-of-thumb"
                ? EngineCatalog.Get("rule-of-thumb").Estimate(request with { Settings = EngineSettings.Empty })
                : null;
            if (parse.GetValue(json))
                context.Out.WriteLine(EstimateDocument.From(report, rule).ToJson());
            else
                ReportView.Render(context.Console, report, rule, parse.GetValue(explain));
            return 0;
        });
        return command;
    }
}
