using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using VramFit.Cli.Rendering;
using VramFit.Engines.LlamaCpp;
using VramFit.Errors;
using VramFit.Units;

namespace VramFit.Cli.Commands;

/// <summary>
/// <c>vramfit fit</c>: llama.cpp auto-fit — the largest context, the GPU layers and the MoE experts on the CPU
/// that fit the GPUs with a margin, and the exact <c>llama-server</c> command.
/// </summary>
internal static class FitCommand
{
    public static Command Create(CliContext context)
    {
        var options = new EngineOptions();
        var margin = new Option<string>("--margin") { Description = "Memory kept free on every GPU (llama.cpp's --fit keeps 1 GiB)", DefaultValueFactory = _ => "1GiB" };
        var minContext = new Option<string>("--min-context") { Description = "Smallest acceptable context before weights leave the GPUs", DefaultValueFactory = _ => "4096" };
        var json = new Option<bool>("--json") { Description = "Print the chosen settings, the command and the estimate as JSON" };
        var command = new Command("fit", "llama.cpp auto-fit: the largest context, GPU layers and CPU experts that fit, with the llama-server command");
        options.AddTo(command);
        command.Add(margin);
        command.Add(minContext);
        command.Add(json);
        command.SetAction(parse =>
        {
            var input = options.Input(parse);
            var request = input.ToRequest();
            var engine = input.Engine ?? "llama.cpp";
            if (engine is not ("llama.cpp" or "ik_llama.cpp"))
                throw new InvalidSettingException("engine", "auto-fit is llama.cpp's (--engine llama.cpp or ik_llama.cpp)");
            if (request.Deployment.UsableBytesPerGpu <= 0)
                throw new InvalidSettingException("gpu", "auto-fit needs a GPU with a known size (--gpu rtx-4090, --gpu 24GiB or --gpu auto)");
            var fit = LlamaCppAutoFit.Fit(new LlamaCppFitRequest
            {
                Model = request.Model,
                Deployment = request.Deployment,
                Settings = request.Settings,
                MarginBytes = ByteSize.Parse(parse.GetValue(margin)!, "margin").Bytes,
                MinContext = TokenCount.Parse(parse.GetValue(minContext)!, "min-context"),
                MaxContext = input.Context is null ? null : TokenCount.Parse(input.Context, "context"),
                IkLlama = engine == "ik_llama.cpp",
                WeightFormat = request.Workload.WeightFormat,
            });
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $$"""{"fits": {{(fit.Fits ? "true" : "false")}}, "contextTokens": {{fit.ContextTokens}}, "gpuLayers": {{fit.GpuLayers}}, "cpuMoeLayers": {{fit.CpuMoeLayers}}, "explanation": {{JsonSerializer.Serialize(fit.Explanation, Reports.ReportJsonContext.Relaxed.String)}}, "launchCommand": {{JsonSerializer.Serialize(fit.LaunchCommand, Reports.ReportJsonContext.Relaxed.String)}}}"""));
            }
            else
            {
                context.Out.WriteLine(fit.Fits
                    ? string.Create(CultureInfo.InvariantCulture, $"fits: context {fit.ContextTokens:N0}, {fit.GpuLayers} GPU layers, {fit.CpuMoeLayers} MoE layers' experts on the CPU — {fit.Explanation}")
                    : $"does not fit even with everything offloaded: {fit.Explanation}");
                ReportView.Render(context.Console, fit.Report, null, explain: false);
            }

            return fit.Fits ? 0 : 1;
        });
        return command;
    }
}
