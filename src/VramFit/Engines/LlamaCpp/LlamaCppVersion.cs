using System.Globalization;
using System.Text.RegularExpressions;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// A llama.cpp build, mainline or the ik_llama.cpp fork, and the allocation behaviours that changed over time.
/// Builds are the number llama.cpp prints ("build: 5622 (97340b4c)"); a "~YYYY-MM" date maps to the build of that
/// month. Unknown = the current mainline.
/// </summary>
public sealed record LlamaCppVersion(bool IkLlama, int Build)
{
    /// <summary>The build treated as "current" when none is given (mainline, 2026-03).</summary>
    public const int Current = 8300;

    /// <summary>iSWA: separate, window-sized cache for sliding-window layers. llama.cpp PR #13194 (merged 2025-05-20, ~b5450).
    /// ik_llama.cpp caches every layer at full length.</summary>
    public bool SeparateSwaCache => !IkLlama && Build >= 5450;

    /// <summary>MLA GGUFs cache only the latent K (no V) since llama.cpp PR #19067 (2026-01, ~b7800).</summary>
    public bool VlessMla => !IkLlama && Build >= 7800;

    /// <summary>
    /// Layer placement counts the output layer as the first to offload (i_gpu_start = n_layer + 1 − ngl) since
    /// llama.cpp PR #18148 "offload output layer to GPU first" (merged 2025-12-17; b7370 is 2025-12-12 and b7571
    /// 2025-12-28, so ~b7450). Older builds — the April 2025 load_tensors still computes n_layer − ngl — and
    /// ik_llama.cpp use i_gpu_start = n_layer − ngl and offload the output only when ngl &gt; n_layer.
    /// </summary>
    public bool OutputCountsAsLayer => !IkLlama && Build >= 7450;

    /// <summary>Host-side KV of CPU layers lives in the plain CPU buffer (new loader) instead of pinned host memory.</summary>
    public bool CpuKvInPlainCpuBuffer => !IkLlama && Build >= 3950;

    /// <summary>Weights in host memory read through mmap are reported as "CPU_Mapped" (mainline since ~b3950); ik prints "CPU".</summary>
    public bool MappedBufferName => !IkLlama && Build >= 3950;

    /// <summary>
    /// Metal maps GPU-layer weights from the mmap'd file (unified memory) into a buffer printed "Metal_Mapped"
    /// (PR #10026, completed by PR #10189 "metal : fix from ptr buffer name", merged 2024-11-06, ~b4040).
    /// </summary>
    public bool MetalMappedWeights => !IkLlama && Build >= 4040;

    /// <summary>
    /// Metal devices are named by index, "MTL0", "MTL1" …, since PR #18919 "metal : support virtual devices" (merged
    /// 2026-01-18; at ~12.5 builds a day from the b7571 = 2025-12-28 anchor above, ~b7830); before, "Metal".
    /// </summary>
    public bool IndexedMetalNames => !IkLlama && Build >= 7830;

    /// <summary>Pipeline parallelism is disabled when tensors are overridden (every build with --override-tensor:
    /// mainline b5271 and ik_llama.cpp logs with -ot show a single copy of the graph inputs).</summary>
    public bool NoPipelineWithOverrides => true;

    /// <summary>Parses an engine version as validation cases and logs write it: "b5622 (97340b4c)", "3673 (4084ca73)", "~2025-03".</summary>
    public static LlamaCppVersion Parse(string? text, bool ikLlama)
    {
        if (string.IsNullOrWhiteSpace(text))
            return new(ikLlama, Current);
        // "~2025-03", or a year alone ("~mid 2024": taken as June)
        var date = Regex.Match(text, @"(20\d\d)(?:-(\d\d))?");
        var build = Regex.Match(text, @"^\s*b?(\d{3,5})(?![-\d])");
        if (build.Success && !ikLlama)
            return new(false, int.Parse(build.Groups[1].Value, CultureInfo.InvariantCulture));
        if (date.Success && !ikLlama)
        {
            int month = date.Groups[2].Success ? int.Parse(date.Groups[2].Value, CultureInfo.InvariantCulture) : 6;
            int months = (int.Parse(date.Groups[1].Value, CultureInfo.InvariantCulture) - 2024) * 12 + month - 1;
            // anchors: b3950 ≈ 2024-10, b5450 ≈ 2025-05, b8211 ≈ 2026-03 (builds printed in dated logs)
            int approx = months <= 16 ? 3950 + (months - 9) * 214 : 5450 + (months - 16) * 276;
            return new(false, Math.Max(1, approx));
        }

        return new(ikLlama, ikLlama && build.Success ? int.Parse(build.Groups[1].Value, CultureInfo.InvariantCulture) : Current);
    }
}
