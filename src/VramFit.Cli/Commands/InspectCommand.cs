using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VramFit.Cli.Rendering;
using VramFit.Models;
using VramFit.Reports;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit inspect</c>: what a model is, as VramFit understood it.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = ModelLookup.Help };
        var json = new Option<bool>("--json") { Description = "Print the parsed description as JSON" };
        var offline = new Option<bool>("--offline") { Description = "Never touch the network" };
        var command = new Command("inspect", "Show a model's parameters, bytes per type, layer layout and KV bytes per token");
        command.Add(model);
        command.Add(json);
        command.Add(offline);
        command.SetAction(parse =>
        {
            ModelSummary summary;
            using (var progress = DownloadProgress.For(context.Error))
                summary = ModelSummary.Of(ModelLookup.Resolve(parse.GetValue(model)!, parse.GetValue(offline), progress));
            if (parse.GetValue(json))
                context.Out.WriteLine(JsonSerializer.Serialize(summary, ReportJsonContext.Relaxed.ModelSummary));
            else
                Render(context.Console, summary);
            return 0;
        });
        return command;
    }

    private static void Render(IAnsiConsole console, ModelSummary s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string k, string v) => grid.AddRow($"[grey]{Markup.Escape(k)}[/]", Markup.Escape(v));
        Row("model", s.Name);
        Row("architecture", s.Architecture);
        Row("parameters", $"{s.Parameters.ToString("N0", CultureInfo.InvariantCulture)} ({ReportView.FormatCount(s.Parameters)})");
        if (s.Moe is not null)
            Row("active per token", ReportView.FormatCount(s.ActiveParameters));
        Row("weights", $"{ReportView.Size(s.WeightBytes)} as {s.WeightFormat}");
        Row("layers / hidden / vocab", $"{s.Layers} / {s.HiddenSize} / {s.VocabSize}");
        Row("trained context", s.MaxContext > 0 ? s.MaxContext.ToString("N0", CultureInfo.InvariantCulture) : "unknown");
        Row("tied embeddings", s.TiedEmbeddings ? "yes" : "no");
        Row("KV per token (16-bit)", ReportView.Size(s.KvBytesPerToken16Bit));
        if (s.RecurrentStateBytesPerSequence > 0)
            Row("recurrent state / sequence (f32)", ReportView.Size(s.RecurrentStateBytesPerSequence));
        if (s.Moe is { } m)
            Row("experts", $"{m.ActiveExperts} of {m.Experts} routed (+{m.SharedExperts} shared) in {m.MoeLayers} layers");
        console.Write(grid);

        var types = new Table().Border(TableBorder.Rounded).AddColumn("type").AddColumn(new TableColumn("bytes").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned());
        foreach (var t in s.BytesByType)
            types.AddRow(Markup.Escape(t.Type), ReportView.Size(t.Bytes), t.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        console.Write(types);

        var layers = new Table().Border(TableBorder.Rounded).AddColumn("layers").AddColumn("token mixer").AddColumn("feed-forward").AddColumn(new TableColumn("KV elems/token").RightAligned());
        foreach (var r in s.LayerLayout)
            layers.AddRow(r.First == r.Last ? $"{r.First}" : $"{r.First}–{r.Last}", Markup.Escape(r.Attention), Markup.Escape(r.Mlp), r.KvElementsPerToken.ToString(CultureInfo.InvariantCulture));
        console.Write(layers);
    }
}
