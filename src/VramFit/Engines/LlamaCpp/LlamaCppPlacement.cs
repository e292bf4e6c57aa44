using System.Text.RegularExpressions;
using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// Where llama.cpp puts each layer and tensor (src/llama-model.cpp <c>load_tensors</c>): the input layer on the
/// CPU, the last layers on the GPUs, split over devices by the cumulative <c>--tensor-split</c> proportions
/// (<c>upper_bound(splits, (il − i_gpu_start) / act_gpu_layers)</c>), then <c>--override-tensor</c> /
/// <c>--n-cpu-moe</c> moving matching tensors. Device index −1 is host memory.
/// </summary>
internal sealed class LlamaCppPlacement
{
    private readonly int[] layerDevice;
    private readonly (Regex Pattern, int Device)[] overrides;
    private readonly int cpuMoeLayers;

    public LlamaCppPlacement(int layerCount, LlamaCppSettings s, LlamaCppVersion v)
    {
        LayerCount = layerCount;
        layerDevice = new int[layerCount];
        int gpus = s.Backend == LlamaCppBackend.Cpu ? 0 : s.Devices;
        // split_mode none and row keep every layer (and its KV) on the main GPU; row spreads only the matrices
        // over the GPUs, in one "CUDA_Split" buffer (llama-model.cpp: LLAMA_SPLIT_MODE_ROW uses split_buft)
        int devices = gpus;
        int layerDevices = s.SplitMode is "none" or "row" ? Math.Min(gpus, 1) : gpus;
        int mainOffset = layerDevices == 1 && gpus > 1 ? s.MainGpu : 0;
        var splits = Splits(layerDevices, s.TensorSplit);
        int ngl = gpus == 0 ? 0 : Math.Max(0, s.GpuLayers);
        int start = v.OutputCountsAsLayer ? Math.Max(layerCount + 1 - ngl, 0) : Math.Max(layerCount - ngl, 0);
        int active = layerDevices == 0 ? 0 : Math.Min(ngl, layerCount + 1);
        for (int il = 0; il < layerCount; il++)
            layerDevice[il] = il < start || il - start >= active ? -1 : Upper(splits, (float)(il - start) / active) + mainOffset;
        OutputDevice = v.OutputCountsAsLayer
            ? (layerCount < start || layerCount - start >= active ? -1 : Upper(splits, (float)(layerCount - start) / active) + mainOffset)
            : (ngl > layerCount && layerDevices > 0 ? Upper(splits, (float)(active - 1) / active) + mainOffset : -1);
        Devices = devices;
        overrides = BuildOverrides(s, layerCount);
        cpuMoeLayers = s.CpuMoeLayers;
    }

    public int LayerCount { get; }

    /// <summary>GPUs that hold layers (0 for a CPU-only run).</summary>
    public int Devices { get; }

    /// <summary>Device of the output layer (output_norm, output.weight, logits), −1 = CPU.</summary>
    public int OutputDevice { get; }

    /// <summary>Device of repeating layer <paramref name="il"/> (its KV cache lives there too), −1 = CPU.</summary>
    public int LayerDevice(int il) => il >= 0 && il < layerDevice.Length ? layerDevice[il] : -1;

    /// <summary>Layers on GPUs.</summary>
    public int OffloadedLayers => layerDevice.Count(d => d >= 0);

    /// <summary>Device of a tensor by name and layer: overrides first, the input layer on the CPU, else its layer's device.</summary>
    public int TensorDevice(string name, int layer) => TensorDevice(name, layer, out _);

    /// <param name="name">The tensor's GGUF name.</param>
    /// <param name="layer">Its block, or −1.</param>
    /// <param name="overridden">The device comes from an --override-tensor pattern or --n-cpu-moe, not from the layer placement.</param>
    public int TensorDevice(string name, int layer, out bool overridden)
    {
        overridden = true;
        foreach (var (pattern, device) in overrides)
            if (pattern.IsMatch(name))
                return device;
        // --n-cpu-moe N: the routed experts of the first N layers stay on the CPU (common/arg.cpp adds the override
        // "blk\.(i)\.ffn_(up|down|gate)_exps" = CPU for each i < N)
        if (layer >= 0 && layer < cpuMoeLayers && name.Contains("_exps", StringComparison.Ordinal))
            return -1;
        overridden = false;
        if (layer < 0)
            return LlamaCppTensorTable.IsInputLayer(name) ? -1 : OutputDevice;
        return LayerDevice(layer);
    }

    public bool HasOverrides => overrides.Length > 0 || cpuMoeLayers > 0;

    /// <summary>--override-tensor patterns are given (placement must look at tensor names).</summary>
    public bool HasRegexOverrides => overrides.Length > 0;

    /// <summary>The routed experts of layer <paramref name="il"/> stay in host memory (--n-cpu-moe, or the layer is on the CPU).</summary>
    public bool ExpertsOnHost(int il) => il < cpuMoeLayers || LayerDevice(il) < 0;

    private static (Regex, int)[] BuildOverrides(LlamaCppSettings s, int layerCount)
    {
        var list = new List<(Regex, int)>();
        foreach (var (pattern, buffer) in s.Overrides)
        {
            Regex regex;
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            }
            catch (ArgumentException e)
            {
                throw new Errors.InvalidSettingException("override_tensor", $"'{pattern}' is not a valid regular expression: {e.Message}");
            }

            list.Add((regex, BufferDevice(buffer)));
        }

        return [.. list];
    }

    private static int BufferDevice(string buffer)
    {
        var b = buffer.Trim();
        var m = Regex.Match(b, @"^[A-Za-z]+(\d+)$");
        if (b.StartsWith("CPU", StringComparison.OrdinalIgnoreCase) || b.EndsWith("_Host", StringComparison.OrdinalIgnoreCase))
            return -1;
        if (m.Success)
            return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        throw new Errors.InvalidSettingException("override_tensor", $"unknown buffer type '{buffer}' (use CPU, CUDA0, CUDA1, Vulkan0 …)");
    }

    private static float[] Splits(int devices, System.Collections.Immutable.ImmutableArray<double> split)
    {
        var splits = new float[Math.Max(devices, 1)];
        for (int i = 0; i < devices; i++)
            // no --tensor-split: llama.cpp splits by each device's free memory; identical devices → equal shares
            splits[i] = split.IsDefaultOrEmpty ? 1f : i < split.Length ? (float)split[i] : 0f;
        float sum = 0;
        for (int i = 0; i < devices; i++)
        {
            sum += splits[i];
            splits[i] = sum;
        }

        for (int i = 0; i < devices; i++)
            splits[i] /= sum;
        return splits;
    }

    /// <summary>std::upper_bound over the cumulative split points.</summary>
    private static int Upper(float[] splits, float x)
    {
        for (int i = 0; i < splits.Length; i++)
            if (splits[i] > x)
                return i;
        return splits.Length - 1;
    }
}
