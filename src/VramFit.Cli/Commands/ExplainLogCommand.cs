using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VramFit.Errors;
using VramFit.Validation;

namespace VramFit.Cli.Commands;

/// <summary>
/// <c>vramfit explain-log FILE [--case]</c>: reads a llama.cpp log, re-estimates the run and shows estimate vs
/// printed side by side; <c>--case</c> prints the run as a validation case line to add to a .jsonl file.
/// </summary>
internal static class ExplainLogCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "A llama.cpp / ik_llama.cpp log (llama-server, llama-cli, llama-bench …)" };
        var asCase = new Option<bool>("--case") { Description = "Print only the validation case line (shared/validation/SCHEMA.md)" };
        var command = new Command("explain-log", "Re-estimate a llama.cpp run from its log and compare with what it printed") { file, asCase };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new VramFitException($"{path}: {e.Message}", e);
            }

            var validationCase = LlamaCppLogParser.Parse(text, Path.GetFileNameWithoutExtension(path));
            if (parse.GetValue(asCase))
            {
                context.Out.WriteLine(ValidationCaseWriter.ToJsonLine(validationCase));
                return 0;
            }

            Render(context, ValidationRunner.RunCase(validationCase));
            context.Out.WriteLine(ValidationCaseWriter.ToJsonLine(validationCase));
            return 0;
        });
        return command;
    }

    private static void Render(CliContext context, CaseResult result)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 140;
        if (result.Status == CaseResult.Skipped)
        {
            console.WriteLine($"cannot estimate this run: {result.Reason}");
            return;
        }

        var table = new Table().Title($"{Markup.Escape(result.Engine)}: printed vs estimated").AddColumns("figure", "printed", "estimated", "error %");
        foreach (var f in result.Figures)
            table.AddRow(Markup.Escape(f.Name), f.Observed.ToString("0.##", CultureInfo.InvariantCulture),
                f.Predicted is { } p ? p.ToString("0.##", CultureInfo.InvariantCulture) : "—",
                f.ErrorPct is { } e ? e.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "miss");
        console.Write(table);
    }
}
