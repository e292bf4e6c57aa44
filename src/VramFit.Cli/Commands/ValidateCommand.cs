using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using VramFit.Validation;

namespace VramFit.Cli.Commands;

/// <summary><c>vramfit validate FILE... [--json] [--engine X]</c>: the accuracy scoreboard against real engine logs.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var files = new Argument<string[]>("files") { Description = "Validation case files (.jsonl, shared/validation/SCHEMA.md)", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (SCHEMA.md shape)" };
        var engine = new Option<string?>("--engine") { Description = "Only cases of this engine (llama.cpp, ik_llama.cpp, vllm …)" };
        var command = new Command("validate", "Estimate every case of real engine logs and report predicted vs observed figures")
        {
            files, json, engine,
        };
        command.SetAction(parse =>
        {
            var report = ValidationRunner.RunFiles(parse.GetValue(files) ?? [], parse.GetValue(engine));
            if (parse.GetValue(json))
                context.Out.WriteLine(JsonSerializer.Serialize(report, ValidateJsonContext.Default.ValidationReport));
            else
                Render(context, report);
            return 0;
        });
        return command;
    }

    private static void Render(CliContext context, ValidationReport report)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        var cases = new Table().Title("cases").AddColumns("case", "engine", "figure", "observed", "predicted", "error %");
        foreach (var c in report.Cases)
        {
            if (c.Status == CaseResult.Skipped)
            {
                cases.AddRow(Markup.Escape(c.Id), Markup.Escape(c.Engine), "[dim]skipped[/]", "", "", Markup.Escape(c.Reason ?? ""));
                continue;
            }

            bool first = true;
            foreach (var f in c.Figures)
            {
                cases.AddRow(first ? Markup.Escape(c.Id) : "", first ? Markup.Escape(c.Engine) : "", Markup.Escape(f.Name),
                    Num(f.Observed), f.Predicted is { } p ? Num(p) : "—", f.ErrorPct is { } e ? e.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "miss");
                first = false;
            }
        }

        console.Write(cases);
        var summary = new Table().Title("summary").AddColumns("engine", "figure", "cases", "skipped", "median |err| %", "p95 |err| %", "≤1%", "≤5%", "≤10%");
        foreach (var s in report.Summary)
            summary.AddRow(Markup.Escape(s.Engine), Markup.Escape(s.Figure), s.Cases.ToString(CultureInfo.InvariantCulture), s.Skipped.ToString(CultureInfo.InvariantCulture),
                Num(s.MedianAbsErrorPct), Num(s.P95AbsErrorPct), Pct(s.Within1Pct), Pct(s.Within5Pct), Pct(s.Within10Pct));
        console.Write(summary);
    }

    private static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Pct(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
}

/// <summary>System.Text.Json source generation for the validate report (camelCase, as every --json output).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ValidationReport))]
internal sealed partial class ValidateJsonContext : JsonSerializerContext;
