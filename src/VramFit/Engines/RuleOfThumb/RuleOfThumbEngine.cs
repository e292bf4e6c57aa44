using System.Collections.Immutable;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.RuleOfThumb;

/// <summary>
/// The quick formula practitioners use, shown next to the engine-specific breakdown so users see how far it
/// is off for their case: weights = parameters × bytes per parameter; activations ≈ K × batch × sequence ×
/// hidden × layers bytes (K adjustable, 10–20 in the literature); KV = 2 × batch × sequence × layers ×
/// kv_heads × head_dim × bytes. It ignores GQA subtleties per layer, sliding windows, MLA, quantization
/// scales, overheads and the engine's own rules on purpose: that is the point of the comparison.
/// </summary>
public sealed class RuleOfThumbEngine : IEngineModel
{
    /// <summary>Default activation factor K (bytes per batch × token × hidden × layer).</summary>
    public const double DefaultActivationFactor = 10;

    private static readonly IReadOnlyCollection<string> Names = ["activation_factor", "bytes_per_parameter", "kv_bytes"];

    public string Id => "rule-of-thumb";

    public IReadOnlyCollection<string> SettingNames => Names;

    public MemoryReport Estimate(EstimateRequest request)
    {
        var model = request.Model;
        var w = request.Workload;
        request.Settings.EnsureKnown(Id, Names);
        var format = w.WeightFormat ?? model.CheckpointFormat ?? WeightFormat.DenseOf(model.Dtype);
        double bytesPerParam = request.Settings.GetDouble("bytes_per_parameter", format.Bits / 8.0, 0.05, 8);
        double k = request.Settings.GetDouble("activation_factor", DefaultActivationFactor, 0, 1000);
        double kvBytes = request.Settings.GetDouble("kv_bytes", KvCacheTypes.Bits(w.KvCacheType, model.Dtype) / 8, 0.125, 8);
        long batch = w.Batch ?? 1;
        long seq = w.ContextTokens ?? 4096;
        long layers = model.RepeatingLayerCount;
        long parameters = ModelProfile.Create(model).Parameters;   // cached per model

        // the formula's "kv_heads × head_dim" is one number for the model: take the first attention layer
        var first = model.Layers.FirstOrDefault(l => l.Attention.Kind is AttentionKind.Full or AttentionKind.SlidingWindow)?.Attention;
        long kvHeads = first?.KvHeadCount ?? 0, headDim = first?.KeyHeadDim ?? 0;

        long weights = (long)Math.Round(parameters * bytesPerParam);
        long activations = (long)Math.Round(k * batch * seq * model.HiddenSize * layers);
        long kv = (long)Math.Round(2.0 * batch * seq * layers * kvHeads * headDim * kvBytes);
        int gpus = request.Deployment.TotalGpus;
        var devices = ImmutableArray.CreateBuilder<DeviceMemory>(gpus);
        for (int d = 0; d < gpus; d++)
        {
            devices.Add(new DeviceMemory
            {
                Device = $"GPU{d}",
                CapacityBytes = request.Deployment.UsableBytesPerGpu,
                Items =
                [
                    new MemoryItem
                    {
                        Name = "weights", Category = MemoryCategory.Weights, Bytes = weights / gpus, Device = $"GPU{d}",
                        Formula = "parameters × bytes per parameter ÷ GPUs",
                        Inputs = [new("parameters", parameters), new("bytes per parameter", bytesPerParam, "B"), new("GPUs", gpus)],
                    },
                    new MemoryItem
                    {
                        Name = "KV cache", Category = MemoryCategory.KvCache, Bytes = kv / gpus, Device = $"GPU{d}",
                        Formula = "2 × batch × sequence × layers × kv_heads × head_dim × bytes ÷ GPUs",
                        Inputs = [new("batch", batch), new("sequence", seq, "tokens"), new("layers", layers), new("kv_heads", kvHeads), new("head_dim", headDim), new("bytes", kvBytes, "B")],
                    },
                    new MemoryItem
                    {
                        Name = "activations", Category = MemoryCategory.Activations, Bytes = activations / gpus, Device = $"GPU{d}",
                        Formula = "K × batch × sequence × hidden × layers ÷ GPUs",
                        Inputs = [new("K", k), new("batch", batch), new("sequence", seq, "tokens"), new("hidden", model.HiddenSize), new("layers", layers)],
                    },
                ],
            });
        }

        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = parameters,
            Devices = devices.MoveToImmutable(),
            Notes = ["rule of thumb: no per-layer detail, no overheads, no engine rules"],
        };
    }
}
