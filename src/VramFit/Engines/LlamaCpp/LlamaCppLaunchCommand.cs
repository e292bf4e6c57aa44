using System.Globalization;
using System.Text;
using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>The llama-server command line for a configuration (options as common/arg.cpp spells them).</summary>
internal static class LlamaCppLaunchCommand
{
    public static string Build(ModelDescription model, LlamaCppSettings s, long nCtx)
    {
        var c = new StringBuilder("llama-server -m ");
        c.Append(Quote(model.Source is { Length: > 0 } src && src.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? src : model.Name + ".gguf"));
        c.Append(CultureInfo.InvariantCulture, $" -c {nCtx} -b {s.BatchSize} -ub {s.UbatchSize} -ngl {s.GpuLayers}");
        c.Append(s.FlashAttention ? " -fa on" : " -fa off");
        if (s.CacheTypeK.Name != "f16")
            c.Append(" -ctk ").Append(s.CacheTypeK.Name);
        if (s.CacheTypeV.Name != "f16")
            c.Append(" -ctv ").Append(s.CacheTypeV.Name);
        if (s.Parallel > 1)
            c.Append(CultureInfo.InvariantCulture, $" -np {s.Parallel}");
        if (s.KvUnified)
            c.Append(" -kvu");
        if (s.SplitMode != "layer")
            c.Append(" -sm ").Append(s.SplitMode);
        if (!s.TensorSplit.IsDefaultOrEmpty)
            c.Append(" -ts ").Append(string.Join(',', s.TensorSplit.Select(x => x.ToString(CultureInfo.InvariantCulture))));
        foreach (var (pattern, buffer) in s.Overrides)
            c.Append(" -ot ").Append(Quote($"{pattern}={buffer}"));
        if (s.CpuMoeLayers > 0)
            c.Append(CultureInfo.InvariantCulture, $" --n-cpu-moe {s.CpuMoeLayers}");
        if (s.SwaFull)
            c.Append(" --swa-full");
        if (!s.KvOffload)
            c.Append(" -nkvo");
        if (!s.Mmap)
            c.Append(" --no-mmap");
        return c.ToString();
    }

    private static string Quote(string s) => s.Any(ch => char.IsWhiteSpace(ch) || ch is '|' or '(' or ')' or '*' or '\\' or '"' or '$')
        ? "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'"
        : s;
}
