using System.Globalization;
using System.Text.RegularExpressions;
using VramFit.Errors;

namespace VramFit.Validation;

/// <summary>
/// Reads an SGLang server log into a validation case: the settings of its <c>server_args=ServerArgs(…)</c> dump, the
/// memory available before loading ("Load weight begin. avail mem=21.63 GB", read after SGLang's own start-up), and
/// the figures it printed ("Load weight end. … mem usage=15.54 GB", "KV Cache is allocated. #tokens: 46611, K size:
/// 1.42 GB, V size: 1.42 GB"). SGLang prints GB for bytes / 2^30, so the figures are GiB. With TP the lines of TP0
/// are taken.
/// </summary>
public static partial class SglangLogParser
{
    /// <summary>Whether <paramref name="log"/> looks like an SGLang log.</summary>
    public static bool Recognizes(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return log.Contains("server_args=ServerArgs(", StringComparison.Ordinal) || LoadBegin().IsMatch(log) || KvAllocated().IsMatch(log);
    }

    /// <summary>Parses <paramref name="log"/>; throws <see cref="VramFitException"/> when it holds no SGLang figure.</summary>
    public static ValidationCase Parse(string log, string id = "from-log")
    {
        ArgumentNullException.ThrowIfNull(log);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        string? model = null, version = null;
        double? availableBefore = null;
        foreach (var raw in log.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (Version().Match(line) is { Success: true } v)
                version ??= v.Groups[1].Value;
            if (ServerArgs().Match(line) is { Success: true } sa)
                ReadServerArgs(sa.Groups[1].Value, settings, ref model);
            if (TpRank().Match(line) is { Success: true } tp && tp.Groups[1].Value != "0")
                continue;
            if (LoadBegin().Match(line) is { Success: true } lb)
                availableBefore ??= Number(lb.Groups[1].Value);
            if (LoadEnd().Match(line) is { Success: true } le)
                figures.TryAdd("weights_gib", Number(le.Groups[1].Value));
            if (KvAllocated().Match(line) is { Success: true } kv)
            {
                figures.TryAdd("max_total_num_tokens", Number(kv.Groups[1].Value));
                figures.TryAdd("k_gib", Number(kv.Groups[2].Value));
                figures.TryAdd("v_gib", Number(kv.Groups[3].Value));
            }

            if (MaxTotalTokens().Match(line) is { Success: true } mt)
                figures.TryAdd("max_total_num_tokens", Number(mt.Groups[1].Value));
            if (ContextLen().Match(line) is { Success: true } cl)
                settings.TryAdd("context_length", cl.Groups[1].Value);
        }

        if (figures.Count == 0)
            throw new VramFitException("no SGLang memory figure found (\"KV Cache is allocated\", \"Load weight end\" …): is this an SGLang log?");
        return new ValidationCase
        {
            Id = id,
            Engine = "sglang",
            EngineVersion = version,
            Source = "vramfit explain-log",
            Notes = "parsed from an SGLang log; per-rank figures are those of TP0",
            HfId = model,
            Gpu = new CaseGpu(null, ServingLogValues.GpuCount(settings, "tp_size", "pp_size"), null)
            {
                FreeMib = availableBefore is { } gib ? (long)Math.Round(gib * 1024) : null,
                FreeAfterEngineInit = availableBefore is not null,
            },
            Params = [.. settings.OrderBy(kv => kv.Key, StringComparer.Ordinal)],
            Observed = [.. figures.Select(kv => new ObservedFigure(kv.Key, kv.Value))],
        };
    }

    private static void ReadServerArgs(string args, Dictionary<string, string> settings, ref string? model)
    {
        foreach (Match m in Field().Matches(args))
        {
            string key = m.Groups[1].Value, value = m.Groups[2].Value.Trim().Trim('\'');
            if (value is "None" or "")
                continue;
            switch (key)
            {
                case "model_path":
                    model ??= ServingLogValues.ModelName(value);
                    break;
                case "tp_size" or "pp_size" or "dp_size" or "ep_size" or "mem_fraction_static" or "context_length" or "chunked_prefill_size"
                    or "max_prefill_tokens" or "max_running_requests" or "max_total_tokens" or "page_size" or "cuda_graph_max_bs" or "quantization":
                    settings.TryAdd(key, value);
                    break;
                case "kv_cache_dtype" or "dtype" when value != "auto":
                    settings.TryAdd(key, value);
                    break;
                case "disable_cuda_graph" or "enable_piecewise_cuda_graph" or "disable_piecewise_cuda_graph" or "enable_ep_moe":
                    settings.TryAdd(key, value.ToLowerInvariant());
                    break;
            }
        }
    }

    private static double Number(string text) => ServingLogValues.Number(text, "SGLang");

    [GeneratedRegex(@"server_args=ServerArgs\((.*)\)")]
    private static partial Regex ServerArgs();

    [GeneratedRegex(@"(\w+)=('[^']*'|[^,()]*)")]
    private static partial Regex Field();

    [GeneratedRegex(@"\bTP(\d+)\b")]
    private static partial Regex TpRank();

    [GeneratedRegex(@"sglang(?:==| version:? ?v?)([0-9][0-9A-Za-z.]*)", RegexOptions.IgnoreCase)]
    private static partial Regex Version();

    // "Load weight begin. avail mem=21.63 GB"
    [GeneratedRegex(@"Load weight begin\. avail mem=([0-9.]+) GB")]
    private static partial Regex LoadBegin();

    // "Load weight end. type=Qwen2ForCausalLM, dtype=torch.bfloat16, avail mem=6.09 GB, mem usage=15.54 GB."
    [GeneratedRegex(@"Load weight end\..*mem usage=([0-9.]+) GB")]
    private static partial Regex LoadEnd();

    // "KV Cache is allocated. #tokens: 46611, K size: 1.42 GB, V size: 1.42 GB"
    [GeneratedRegex(@"KV Cache is allocated\. #tokens: (\d+), K size: ([0-9.]+) GB, V size: ([0-9.]+) GB")]
    private static partial Regex KvAllocated();

    // "max_total_num_tokens=46611, chunked_prefill_size=2048, max_prefill_tokens=16384, max_running_requests=2049, context_len=131072"
    [GeneratedRegex(@"max_total_num_tokens=(\d+)")]
    private static partial Regex MaxTotalTokens();

    [GeneratedRegex(@"context_len=(\d+)")]
    private static partial Regex ContextLen();
}
