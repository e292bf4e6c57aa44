using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VramFit.Hardware.Detection;

/// <summary>
/// Best-effort AMD detection through ROCm's <c>rocm-smi --showmeminfo vram --showproductname --json</c>:
/// names and VRAM totals/use per card. Per-process memory is not read (rocm-smi prints it in a different
/// report), so <c>vramfit measure</c> stays NVML-only. A machine without ROCm gets a one-line reason.
/// </summary>
public sealed class RocmSmiGpuProbe : IGpuProbe
{
    /// <summary>The rocm-smi arguments; the JSON they produce is what <see cref="Parse"/> reads.</summary>
    public static readonly IReadOnlyList<string> Arguments = ["--showmeminfo", "vram", "--showproductname", "--json"];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly Func<string?> _run;

    /// <summary>Runs the real <c>rocm-smi</c> from PATH.</summary>
    public RocmSmiGpuProbe() : this(RunRocmSmi) { }

    /// <summary>Uses <paramref name="run"/> to get rocm-smi's JSON output (null = rocm-smi is not installed).</summary>
    public RocmSmiGpuProbe(Func<string?> run) => _run = run ?? throw new ArgumentNullException(nameof(run));

    public string Backend => "rocm-smi";

    public GpuProbeResult Probe()
    {
        var output = _run();
        if (output is null)
            return GpuProbeResult.Unavailable(Backend, "no AMD ROCm tools (rocm-smi not found)");
        try
        {
            return new GpuProbeResult { Available = true, Backend = Backend, Gpus = Parse(output) };
        }
        catch (JsonException e)
        {
            return GpuProbeResult.Unavailable(Backend, $"rocm-smi printed unreadable JSON: {e.Message}");
        }
    }

    public void Dispose() { }

    /// <summary>
    /// Reads <c>{"card0": {"VRAM Total Memory (B)": "…", "VRAM Total Used Memory (B)": "…", "Card series": "…"}, …}</c>.
    /// Values are strings of bytes; key capitalisation differs between ROCm releases ("Card series" / "Card Series").
    /// </summary>
    public static IReadOnlyList<DetectedGpu> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var gpus = new List<DetectedGpu>();
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            return gpus;
        foreach (var card in doc.RootElement.EnumerateObject())
        {
            if (!card.Name.StartsWith("card", StringComparison.OrdinalIgnoreCase)
                || !int.TryParse(card.Name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || card.Value.ValueKind != JsonValueKind.Object)
                continue;
            long? total = Bytes(card.Value, "VRAM Total Memory (B)");
            long? used = Bytes(card.Value, "VRAM Total Used Memory (B)");
            if (total is not long t || t <= 0)
                continue;
            long u = Math.Clamp(used ?? 0, 0, t);
            gpus.Add(new DetectedGpu
            {
                Index = index,
                Name = Text(card.Value, "Card series") ?? Text(card.Value, "Card model") ?? card.Name,
                TotalBytes = t,
                UsedBytes = u,
                FreeBytes = t - u,
            });
        }

        gpus.Sort((a, b) => a.Index.CompareTo(b.Index));
        return gpus;
    }

    private static string? Text(JsonElement card, string key)
    {
        foreach (var p in card.EnumerateObject())
            if (string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(p.Value.GetString()))
                return p.Value.GetString()!.Trim();
        return null;
    }

    private static long? Bytes(JsonElement card, string key) =>
        long.TryParse(Text(card, key), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? RunRocmSmi()
    {
        var start = new ProcessStartInfo("rocm-smi") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in Arguments)
            start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start);
            if (process is null)
                return null;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return "{}";
            }

            return output.GetAwaiter().GetResult();
        }
        catch (Win32Exception)
        {
            return null; // not installed
        }
    }
}
