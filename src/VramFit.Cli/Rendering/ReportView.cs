using System.Globalization;
using Spectre.Console;
using VramFit.Reports;
using VramFit.Units;

namespace VramFit.Cli.Rendering;

/// <summary>Renders a <see cref="MemoryReport"/> for humans: a table per device, the verdict, the explanation tree.</summary>
internal static class ReportView
{
    private static readonly (string Label, MemoryCategory Category)[] Rows =
    [
        ("Weights", MemoryCategory.Weights),
        ("KV cache", MemoryCategory.KvCache),
        ("Recurrent state", MemoryCategory.RecurrentState),
        ("Activations / compute", MemoryCategory.Activations),
        ("Output buffers", MemoryCategory.Output),
        ("Overhead", MemoryCategory.Overhead),
    ];

    public static void Render(IAnsiConsole console, MemoryReport report, MemoryReport? ruleOfThumb, bool explain)
    {
        console.MarkupLine($"[bold]{Markup.Escape(report.Model)}[/] on [bold]{Markup.Escape(report.Engine)}[/]: {FormatCount(report.Parameters)} parameters");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("Memory");
        foreach (var d in report.Devices)
            table.AddColumn(new TableColumn(Markup.Escape(d.Device)).RightAligned());
        if (ruleOfThumb is not null)
            table.AddColumn(new TableColumn("rule of thumb (GPU0)").RightAligned());
        foreach (var (label, category) in Rows)
        {
            if (report.Devices.All(d => d.BytesOf(category) == 0) && (ruleOfThumb is null || ruleOfThumb.Devices[0].BytesOf(category) == 0))
                continue;
            var cells = new List<string> { label };
            cells.AddRange(report.Devices.Select(d => Size(d.BytesOf(category))));
            if (ruleOfThumb is not null)
                cells.Add(Size(ruleOfThumb.Devices[0].BytesOf(category)));
            table.AddRow(cells.ToArray());
        }

        var totals = new List<string> { "[bold]Total[/]" };
        totals.AddRange(report.Devices.Select(d => $"[bold]{Size(d.TotalBytes)}[/]"));
        if (ruleOfThumb is not null)
            totals.Add($"[bold]{Size(ruleOfThumb.Devices[0].TotalBytes)}[/]");
        table.AddRow(totals.ToArray());
        if (report.Devices.Any(d => d.CapacityBytes > 0))
        {
            var capacity = new List<string> { "Capacity" };
            capacity.AddRange(report.Devices.Select(d => d.CapacityBytes > 0 ? Size(d.CapacityBytes) : "host"));
            if (ruleOfThumb is not null)
                capacity.Add("");
            table.AddRow(capacity.ToArray());
            var headroom = new List<string> { "Headroom" };
            headroom.AddRange(report.Devices.Select(d => d.CapacityBytes <= 0 ? "" : d.HeadroomBytes >= 0 ? $"[green]{Size(d.HeadroomBytes)}[/]" : $"[red]{Size(d.HeadroomBytes)}[/]"));
            if (ruleOfThumb is not null)
                headroom.Add("");
            table.AddRow(headroom.ToArray());
        }

        console.Write(table);
        if (report.Capacity is { } c)
        {
            console.MarkupLine($"KV pool: {Size(c.KvCacheBytes)} = {c.KvCacheTokens.ToString("N0", CultureInfo.InvariantCulture)} tokens"
                + (c.GpuBlocks is { } blocks ? $" ({blocks.ToString("N0", CultureInfo.InvariantCulture)} blocks of {c.BlockSize})" : "")
                + $"; max concurrency {c.MaxConcurrency.ToString("0.##", CultureInfo.InvariantCulture)}"
                + (c.MaxModelLen is { } len ? $"; longest context {len.ToString("N0", CultureInfo.InvariantCulture)}" : ""));
            if (c.EngineError is not null)
                console.MarkupLine($"[red]engine would fail:[/] {Markup.Escape(c.EngineError)}");
        }

        if (report.Accelerators.Any(d => d.CapacityBytes > 0))
        {
            bool fits = report.Fits;
            var worst = report.Accelerators.MinBy(d => d.HeadroomBytes)!;
            console.MarkupLine(fits
                ? $"[green bold]FITS[/] with {Size(worst.HeadroomBytes)} headroom on the fullest GPU ({Markup.Escape(worst.Device)})"
                : $"[red bold]DOES NOT FIT[/]: {Markup.Escape(worst.Device)} needs {Size(-worst.HeadroomBytes)} more");
        }
        else
        {
            console.MarkupLine("[yellow]no GPU size given (--gpu): no verdict[/]");
        }

        foreach (var note in report.Notes)
            console.MarkupLine($"[grey]note: {Markup.Escape(note)}[/]");
        if (report.LaunchCommand is not null)
            console.MarkupLine($"[grey]launch:[/] {Markup.Escape(report.LaunchCommand)}");
        if (explain)
            Explain(console, report);
    }

    public static void Explain(IAnsiConsole console, MemoryReport report)
    {
        var tree = new Tree($"[bold]How the numbers are made ({Markup.Escape(report.Engine)})[/]");
        if (report.Settings.Length > 0)
        {
            var settings = tree.AddNode("settings");
            foreach (var s in report.Settings)
                settings.AddNode(Markup.Escape(InputText(s)));
        }

        foreach (var d in report.Devices)
        {
            var node = tree.AddNode($"[bold]{Markup.Escape(d.Device)}[/] {Size(d.TotalBytes)}");
            foreach (var item in d.Items)
                AddItem(node, item);
        }

        console.Write(tree);
    }

    private static void AddItem(TreeNode parent, MemoryItem item)
    {
        var node = parent.AddNode($"{Markup.Escape(item.Name)}: [bold]{Size(item.Bytes)}[/]" + (item.Formula.Length > 0 ? $" = {Markup.Escape(item.Formula)}" : ""));
        if (item.Inputs.Length > 0)
            node.AddNode("[grey]" + Markup.Escape(string.Join("; ", item.Inputs.Select(InputText))) + "[/]");
        if (item.Origin is not null)
            node.AddNode("[grey]source: " + Markup.Escape(item.Origin) + "[/]");
        foreach (var child in item.Children)
            AddItem(node, child);
    }

    private static string InputText(FormulaInput i) =>
        i.Value == 0 && i.Unit.Length == 0 && i.Name.Contains('=', StringComparison.Ordinal)
            ? i.Name
            : $"{i.Name} = {i.Value.ToString("G6", CultureInfo.InvariantCulture)}{(i.Unit.Length > 0 ? " " + i.Unit : "")}";

    public static string Size(long bytes) => new ByteSize(bytes).ToString();

    public static string FormatCount(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        _ => n.ToString("N0", CultureInfo.InvariantCulture),
    };
}
