using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace VramFit.Tests.Engines.LlamaCpp.Differential;

/// <summary>
/// Real llama.cpp (LLamaSharp.Backend.Cpu's libllama): loads a GGUF, creates a context and returns everything
/// llama.cpp logged, which <see cref="VramFit.Validation.LlamaCppLogParser"/> turns into printed figures.
/// </summary>
internal static class RealLlamaCpp
{
    private static readonly object Gate = new();
    private static readonly StringBuilder Log = new();
    private static bool configured;

    public sealed record Run(uint Ctx, uint Ubatch, bool FlashAttention, GGMLType TypeK = GGMLType.GGML_TYPE_F16, GGMLType TypeV = GGMLType.GGML_TYPE_F16, uint Parallel = 1, bool SwaFull = false);

    public static string Load(string path, Run run)
    {
        lock (Gate)
        {
            if (!configured)
            {
                NativeLibraryConfig.All.WithLogCallback((_, message) => Log.Append(message));
                configured = true;
            }

            Log.Clear();
            var p = new ModelParams(path)
            {
                ContextSize = run.Ctx,
                BatchSize = Math.Max(run.Ubatch, 512),
                UBatchSize = run.Ubatch,
                FlashAttention = run.FlashAttention,
                TypeK = run.TypeK,
                TypeV = run.TypeV,
                SeqMax = run.Parallel,
                SwaFull = run.SwaFull,
                GpuLayerCount = 0,
                Threads = 1,
            };
            try
            {
                using var weights = LLamaWeights.LoadFromFile(p);
                using var context = weights.CreateContext(p);
            }
            catch (Exception e) when (e is LLama.Exceptions.RuntimeError)
            {
                var lines = Log.ToString().Split('\n');
                throw new InvalidOperationException($"llama.cpp refused {path}: {e.Message}\n" + string.Join('\n', lines.TakeLast(12)), e);
            }

            return Log.ToString();
        }
    }
}
