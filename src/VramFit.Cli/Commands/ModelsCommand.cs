using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VramFit.Cli.Rendering;
using VramFit.Models;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit models</c>: the built-in model catalog, optionally one family.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext context)
    {
        var family = new Option<string?>("--family") { Description = "Only this model_type or a prefix of it (llama, qwen3, gemma3, deepseek …)" };
        var json = new Option<bool>("--json") { Description = "Print the list as JSON" };
        var command = new Command("models", "List the built-in models: architecture, parameters, layers, context, KV bytes per token");
        command.Add(family);
        command.Add(json);
        command.SetAction(parse =>
        {
            var rows = CatalogListing.List(parse.GetValue(family));
            if (parse.GetValue(json))
                context.Out.WriteLine(CatalogListing.ToJson(rows));
            else
                Render(context.Console, rows);
            return 0;
        });
        return command;
    }

    private static void Render(IAnsiConsole console, IReadOnlyList<CatalogListing> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("id")
            .AddColumn("architecture")
            .AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("layers").RightAligned())
            .AddColumn(new TableColumn("context").RightAligned())
            .AddColumn(new TableColumn("KV/token (bf16)").RightAligned())
            .AddColumn("weights");
        foreach (var r in rows)
        {
            string parameters = ReportView.FormatCount(r.Parameters) + (r.VisionParameters > 0 ? $" + {ReportView.FormatCount(r.VisionParameters)} vision" : "");
            table.AddRow(
                Markup.Escape(r.Id),
                Markup.Escape(r.Architecture + (r.IsMoE ? " (MoE)" : "")),
                Markup.Escape(parameters),
                r.Layers.ToString(CultureInfo.InvariantCulture),
                r.MaxContext > 0 ? r.MaxContext.ToString("N0", CultureInfo.InvariantCulture) : "?",
                ReportView.Size(r.KvBytesPerToken16Bit),
                Markup.Escape(r.WeightFormat));
        }

        console.Write(table);
        console.MarkupLine($"[grey]{rows.Count} models; KV per token sums every cache-owning layer before sliding-window caps (MLA: latent).[/]");
    }
}
