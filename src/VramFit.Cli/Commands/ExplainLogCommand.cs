using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VramFit.Errors;
using VramFit.Validation;

namespace VramFit.Cli.Commands;

/// <summary>
/// <c>vramfit explain-log FILE [--case] [--config config.json] [--gpu G]</c>: reads a llama.cpp, vLLM or SGLang log, re-estimates the run
/// and shows estimate vs printed side by side; <c>--case</c> prints the run as a validation case line to add to a
/// .jsonl file. vLLM and SGLang logs name their model by Hub id: models outside the catalog need their config.json.
/// </summary>
internal static class ExplainLogCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "A llama.cpp / ik_llama.cpp log (llama-server, llama-cli, llama-bench …) a vLLM log (vllm serve, LLM(...)) or an SGLang server log" };
        var asCase = new Option<bool>("--case") { Description = "Print only the validation case line (shared/validation/SCHEMA.md)" };
        var config = new Option<string?>("--config") { Description = "The model's config.json, for a vLLM log whose model is not in the catalog" };
        var gpu = new Option<string?>("--gpu") { Description = "The GPU of the run (catalog name, e.g. a100-80gb), for a log that does not print its memory total" };
        var command = new Command("explain-log", "Re-estimate a llama.cpp, vLLM or SGLang run from its log and compare with what it printed") { file, asCase, config, gpu };
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

            string id = Path.GetFileNameWithoutExtension(path);
            var validationCase = SglangLogParser.Recognizes(text) ? SglangLogParser.Parse(text, id)
                : VllmLogParser.Recognizes(text) ? VllmLogParser.Parse(text, id)
                : LlamaCppLogParser.Parse(text, id);
            if (parse.GetValue(config) is { } configPath)
                validationCase = validationCase with { HfConfig = ReadConfig(configPath) };
            if (parse.GetValue(gpu) is { } gpuName)
            {
                var known = Hardware.AcceleratorCatalog.TryFind(gpuName)
                    ?? throw new VramFitException($"--gpu: '{gpuName}' is not in the GPU catalog (vramfit gpus lists it)");
                validationCase = validationCase with { Gpu = (validationCase.Gpu ?? new CaseGpu(null, 1, null)) with { Name = known.Name } };
            }
            if (parse.GetValue(asCase))
            {
                context.Out.WriteLine(ValidationCaseWriter.ToJsonLine(validationCase));
                return 0;
            }

            if (validationCase.Gpu is { Name: null, TotalMib: null, FreeMib: null })
                context.Out.WriteLine("note: the log names neither the GPU nor its memory total; estimated on an 80 GiB card (give --gpu)");
            Render(context, ValidationRunner.RunCase(validationCase));
            context.Out.WriteLine(ValidationCaseWriter.ToJsonLine(validationCase));
            return 0;
        });
        return command;
    }

    private static System.Text.Json.JsonElement ReadConfig(string path)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new VramFitException($"{path}: a config.json must be a JSON object");
            return document.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new VramFitException($"{path}: {e.Message}", e);
        }
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
