using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VramFit.Cli.Rendering;
using VramFit.Engines;
using VramFit.Errors;
using VramFit.Models;
using VramFit.Planning;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit plan</c>: ranked configurations that fit, with speed, quality and launch commands.</summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = ModelLookup.Help };
        var gpu = new Option<string?>("--gpu") { Description = "GPU: catalog name, size (24GiB) or auto (detected)" };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs per node (default 1, or the detected count)" };
        var nodes = new Option<int>("--nodes") { Description = "Nodes", DefaultValueFactory = _ => 1 };
        var cpuRam = new Option<string?>("--cpu-ram") { Description = "Host RAM for offload (e.g. 128GiB)" };
        var ctx = new Option<string>("--context", "-c") { Description = "Tokens per sequence to support", DefaultValueFactory = _ => "8192" };
        var concurrency = new Option<int>("--concurrency") { Description = "Sequences served at once", DefaultValueFactory = _ => 1 };
        var goal = new Option<string>("--goal") { Description = "throughput, latency, fewest-gpus or quality", DefaultValueFactory = _ => "throughput" };
        goal.AcceptOnlyFromAmong("throughput", "latency", "fewest-gpus", "quality");
        var engine = new Option<string[]>("--engine", "-e") { Description = "Engines to consider (repeatable; default all)" };
        var margin = new Option<double>("--margin") { Description = "Fraction of each GPU kept free", DefaultValueFactory = _ => 0.05 };
        var top = new Option<int>("--top") { Description = "Options to show", DefaultValueFactory = _ => 12 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var command = new Command("plan", "Rank the configurations (engine, precision, KV cache, parallelism, offload) that fit, with speed and quality");
        foreach (var s in new Symbol[] { model, gpu, gpus, nodes, cpuRam, ctx, concurrency, goal, engine, margin, top, json })
            Add(command, s);
        command.SetAction(parse =>
        {
            var deployment = new EstimateInput { Model = "", Gpu = parse.GetValue(gpu), Gpus = parse.GetValue(gpus), Nodes = parse.GetValue(nodes), DetectWhenNoGpu = true }
                .ResolveDeployment();
            var request = new PlanRequest
            {
                Model = ModelLookup.Resolve(parse.GetValue(model)!),
                Gpu = deployment.FreeBytesPerGpu is { } free ? deployment.Gpu with { MemoryBytes = free } : deployment.Gpu,
                GpusPerNode = deployment.GpuCount,
                Nodes = deployment.Nodes,
                HostMemoryBytes = parse.GetValue(cpuRam) is { } ram ? ByteSize.Parse(ram, "cpu-ram").Bytes : 0,
                ContextTokens = TokenCount.Parse(parse.GetValue(ctx)!, "context"),
                Concurrency = parse.GetValue(concurrency),
                Goal = parse.GetValue(goal) switch
                {
                    "latency" => PlanGoal.Latency,
                    "fewest-gpus" => PlanGoal.FewestGpus,
                    "quality" => PlanGoal.Quality,
                    _ => PlanGoal.Throughput,
                },
                Engines = parse.GetValue(engine) is { Length: > 0 } e ? e : null,
                MarginFraction = parse.GetValue(margin),
                MaxOptions = parse.GetValue(top),
            };
            var result = Planner.Plan(request);
            if (parse.GetValue(json))
                context.Out.WriteLine(PlanDocument.From(result).ToJson());
            else
                Render(context.Console, result);
            return result.Options.Count > 0 ? 0 : 1;
        });
        return command;
    }

    private static void Add(Command command, Symbol symbol)
    {
        if (symbol is Argument a)
            command.Add(a);
        else if (symbol is Option o)
            command.Add(o);
    }

    private static void Render(IAnsiConsole console, PlanResult result)
    {
        var r = result.Request;
        console.MarkupLine($"[bold]{Markup.Escape(r.Model.Name)}[/] on {r.GpusPerNode} × {Markup.Escape(r.Gpu.Name)}{(r.Nodes > 1 ? $" × {r.Nodes} nodes" : "")}: context {r.ContextTokens:N0}, concurrency {r.Concurrency}, goal {r.Goal} — {result.CandidatesEvaluated} configurations tried");
        if (result.Options.Count == 0)
        {
            console.MarkupLine("[red bold]nothing fits[/]");
            foreach (var (reason, count) in result.Rejections.OrderByDescending(kv => kv.Value).Take(6))
                console.MarkupLine($"  [grey]{count} × {Markup.Escape(reason)}[/]");
            foreach (var note in result.Notes)
                console.MarkupLine($"[grey]note: {Markup.Escape(note)}[/]");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in new[] { "#", "configuration", "GPUs", "peak / GPU", "headroom", "TTFT", "TPOT", "tok/s", "quality", "" })
            table.AddColumn(c);
        int i = 0;
        foreach (var o in result.Options)
        {
            i++;
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(o.Candidate.Describe()),
                o.Replicas > 1 ? $"{o.Candidate.GpusPerReplica} ×{o.Replicas}" : o.Candidate.GpusPerReplica.ToString(CultureInfo.InvariantCulture),
                ReportView.Size(o.PeakGpuBytes),
                ReportView.Size(o.MinHeadroomBytes),
                Time(o.TtftSeconds),
                Time(o.TpotSeconds),
                double.IsNaN(o.TokensPerSecond) ? "?" : o.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                o.Risk.ToString(),
                o.Pareto ? "[green]pareto[/]" : "");
        }

        console.Write(table);
        i = 0;
        foreach (var o in result.Options)
        {
            i++;
            console.MarkupLine($"[bold]{i}.[/] [grey]{Markup.Escape(o.WeightQuality.Note)}; {Markup.Escape(o.KvQuality.Note)}{(o.Notes.Count > 0 ? "; " + Markup.Escape(string.Join("; ", o.Notes)) : "")}[/]");
            if (o.LaunchCommand is not null)
                console.WriteLine("   " + o.LaunchCommand);
        }

        foreach (var note in result.Notes)
            console.MarkupLine($"[grey]note: {Markup.Escape(note)}[/]");
    }

    private static string Time(double seconds) => double.IsNaN(seconds) ? "?"
        : seconds < 1 ? (seconds * 1000).ToString("0.#", CultureInfo.InvariantCulture) + " ms"
        : seconds.ToString("0.##", CultureInfo.InvariantCulture) + " s";
}
