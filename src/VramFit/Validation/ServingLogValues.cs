using System.Globalization;
using VramFit.Errors;

namespace VramFit.Validation;

/// <summary>What the serving-engine log parsers (vLLM, SGLang) read alike: numbers, the model's name, the GPU count.</summary>
internal static class ServingLogValues
{
    /// <summary>A printed number ("93,872", "14.2488"); an unreadable one is an error naming the log.</summary>
    public static double Number(string text, string engine) =>
        double.TryParse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new VramFitException($"unreadable number '{text}' in the {engine} log");

    /// <summary>The model as the catalog knows it: a Hub id ("Qwen/Qwen2-7B-Instruct") stays; a local path gives its folder's name.</summary>
    public static string ModelName(string value)
    {
        var parts = value.TrimEnd('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool hubId = parts.Length <= 2 && !value.StartsWith('/') && !value.StartsWith('.');
        return hubId || parts.Length == 0 ? value : parts[^1];
    }

    /// <summary>GPUs of the run: the product of the parallel sizes the settings name (1 when absent).</summary>
    public static int GpuCount(Dictionary<string, string> settings, params ReadOnlySpan<string> sizes)
    {
        int count = 1;
        foreach (var key in sizes)
        {
            if (int.TryParse(settings.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0)
                count *= n;
        }

        return count;
    }
}
