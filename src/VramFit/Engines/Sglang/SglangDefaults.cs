using System.Globalization;
using System.Text.RegularExpressions;

namespace VramFit.Engines.Sglang;

/// <summary>An SGLang release as far as its memory defaults depend on it ("0.4.3", "~0.4.3", "v0.5.2rc1"); none = the newest rules.</summary>
public readonly partial record struct SglangVersion(int Major, int Minor, int Patch)
{
    public static SglangVersion Latest { get; } = new(int.MaxValue, 0, 0);

    public static SglangVersion Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Latest;
        var m = Number().Match(text);
        if (!m.Success)
            throw new Errors.InvalidSettingException("engine_version", $"'{text}' is not an SGLang version (major.minor.patch)");
        int Part(int i) => !m.Groups[i].Success ? 0
            : int.TryParse(m.Groups[i].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new Errors.InvalidSettingException("engine_version", $"'{text}' is not an SGLang version (a number is too large)");
        return new SglangVersion(Part(1), Part(2), Part(3));
    }

    public bool AtLeast(int major, int minor, int patch) =>
        Major != major ? Major > major : Minor != minor ? Minor > minor : Patch >= patch;

    [GeneratedRegex(@"(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex Number();
}

/// <summary>
/// SGLang's defaults for <c>mem_fraction_static</c>, <c>chunked_prefill_size</c> and <c>cuda_graph_max_bs</c> by release
/// (python/sglang/srt/server_args.py). Three rules so far:
/// <list type="bullet">
/// <item>before 0.4.7: by TP size alone (0.88 / 0.87 / 0.85 / 0.81 / 0.79);</item>
/// <item>0.4.7 (PR #7054, 2025-06-10) to 0.5.2: (gpu_mem − reserved) / gpu_mem with reserved = (2.8 + tp·pp/10) GiB
///   under 35 GiB, (9.5 + tp·pp/2) GiB under 90 GiB, (12 + tp·pp/2) GiB under 160 GiB, else 32 GiB;</item>
/// <item>from 0.5.3 (PR #10975, 2025-09-27, <c>_handle_gpu_memory_settings</c>): chunked_prefill_size and
///   cuda_graph_max_bs by memory bucket, then reserved = 512 + 1.5 × max(chunk, 2048) + 2 × cuda_graph_max_bs
///   + tp·pp/8 × 1024 MiB (at least 10 GiB above 60 GiB), plus 8 MiB per piecewise CUDA-graph size when piecewise
///   graphs are on (default from PR #16331, 2026-01, taken as 0.5.8).</item>
/// </list>
/// <c>gpu_mem</c> is nvidia-smi's memory.total in MiB. Multimodal models' further adjustment
/// (<c>adjust_mem_fraction_for_vlm</c>) is not modelled.
/// </summary>
public static class SglangDefaults
{
    /// <summary>Default fraction before 0.4.7 by TP size: larger TP leaves more room for the communication buffers.</summary>
    public static double MemFractionByTp(int tp) => tp switch
    {
        >= 16 => 0.79,
        >= 8 => 0.81,
        >= 4 => 0.85,
        >= 2 => 0.87,
        _ => 0.88,
    };

    /// <summary>chunked_prefill_size and cuda_graph_max_bs from 0.5.3 by GPU memory (MiB) and TP size.</summary>
    public static (int ChunkedPrefill, int CudaGraphMaxBs) ByMemory(long gpuMemMiB, int tp) => gpuMemMiB switch
    {
        < 20 * 1024 => (2048, 8),                          // T4, 4080
        < 35 * 1024 => (2048, tp < 4 ? 24 : 80),           // A10, 4090, 5090
        < 60 * 1024 => (4096, tp < 4 ? 32 : 160),          // A100 40GB, L40
        < 160 * 1024 => (8192, tp < 4 ? 256 : 512),        // H100, A100 80GB, H20, H200
        _ => (16384, 512),                                 // B200, MI300
    };

    /// <summary>The piecewise CUDA-graph token sizes up to <paramref name="maxTokens"/> (<c>_generate_piecewise_cuda_graph_tokens</c>).</summary>
    public static int PiecewiseGraphSizes(int maxTokens)
    {
        int count = 0;
        void Range(int from, int toInclusive, int step)
        {
            for (int t = from; t <= toInclusive; t += step)
            {
                if (t <= maxTokens)
                    count++;
            }
        }

        Range(4, 32, 4);
        Range(48, 256, 16);
        Range(288, 512, 32);
        Range(640, 4096, 128);
        Range(4352, maxTokens, 256);
        return count;
    }

    /// <summary>The default mem_fraction_static of <paramref name="version"/> (see the class remarks).</summary>
    /// <param name="chunkedPrefill">--chunked-prefill-size when given (≤ 0 turns chunked prefill off)</param>
    /// <param name="maxPrefillTokens">--max-prefill-tokens (default 16384), the activation reserve without chunked prefill</param>
    public static double MemFraction(SglangVersion version, long gpuMemMiB, int tp, int pp, int? chunkedPrefill, int? cudaGraphMaxBs, bool? piecewise, bool mla, int maxPrefillTokens = 16384)
    {
        if (!version.AtLeast(0, 4, 7))
            return MemFractionByTp(tp);
        double parallel = (double)tp * pp;
        double reserved;
        if (!version.AtLeast(0, 5, 3))
        {
            reserved = gpuMemMiB switch
            {
                < 35 * 1024 => (2.8 + parallel / 10) * 1024,
                < 90 * 1024 => (9.5 + parallel / 2) * 1024,
                < 160 * 1024 => (12 + parallel / 2) * 1024,
                _ => 32 * 1024,
            };
        }
        else
        {
            var (chunkDefault, graphDefault) = ByMemory(gpuMemMiB, tp);
            int chunk = chunkedPrefill ?? chunkDefault;
            int graphBs = cudaGraphMaxBs ?? graphDefault;
            // the activation reserve follows the prefill chunk, or the whole prefill budget when chunking is off
            reserved = 512 + Math.Max(chunk > 0 ? chunk : maxPrefillTokens, 2048) * 1.5 + graphBs * 2 + parallel / 8 * 1024;
            if (piecewise ?? version.AtLeast(0, 5, 8))
                reserved += PiecewiseGraphSizes(mla ? 2048 : chunk > 0 ? chunk : maxPrefillTokens) * 8;
            if (gpuMemMiB > 60 * 1024)
                reserved = Math.Max(reserved, 10 * 1024);
        }

        return Math.Round((gpuMemMiB - reserved) / gpuMemMiB, 3);
    }
}
