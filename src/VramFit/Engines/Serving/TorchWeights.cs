using VramFit.Models;

namespace VramFit.Engines.Serving;

/// <summary>
/// What a rank's weights occupy in PyTorch's caching allocator (<see cref="TorchCachingAllocator"/>) when an engine
/// creates its parameters module by module, as vLLM, SGLang and TGI do: <see cref="AllocatedBytes"/> is
/// <c>torch.cuda.memory_allocated()</c> after loading (vLLM's "Model loading took … GiB"), <see cref="ReservedBytes"/>
/// the segments behind them (what the device's free memory loses).
/// </summary>
/// <param name="ParameterBytes">the rank's tensor bytes (<see cref="RankWeights.Total"/>)</param>
/// <param name="AllocatedBytes">bytes of the blocks the allocator hands out for them</param>
/// <param name="ReservedBytes">bytes of the segments it reserves from the driver</param>
/// <param name="RotaryCacheBytes">the cos/sin tables of the rotary embeddings, buffers created with the attention layers</param>
/// <param name="Allocations">parameters created (merged projections count once)</param>
public readonly record struct TorchWeights(long ParameterBytes, long AllocatedBytes, long ReservedBytes, long RotaryCacheBytes, int Allocations)
{
    /// <summary>Bytes the allocator adds on top of the tensors and tables: blocks rounded to 512 B and unsplit 2 MiB segment tails.</summary>
    public long RoundingBytes => AllocatedBytes - ParameterBytes - RotaryCacheBytes;

    /// <summary>
    /// The allocator's view of the rank at <paramref name="stage"/>. Tensors the engine merges into one parameter
    /// (vLLM <c>QKVParallelLinear</c> q/k/v, <c>MergedColumnParallelLinear</c> gate/up, <c>FusedMoE</c> w13 and w2 over
    /// all local experts) are one allocation; a quantized parameter is two, its packed values and its scales and
    /// zero points together. The vision encoder's tensors are not itemised and count at their exact size.
    /// The rotary embedding's cos/sin table is created with the stage's first attention layer, after its output
    /// projection: max_position_embeddings (stretched by linear, dynamic or YaRN scaling, <see cref="AttentionSpec.RotaryPositions"/>)
    /// × rotary dims in the model dtype (<paramref name="bufferDtypeBytes"/>), once per distinct (dims, base, length), as vLLM's <c>get_rope</c> caches it (vllm/model_executor/layers/rotary_embedding,
    /// <c>cache.to(torch.get_default_dtype())</c>; SGLang reuses that module).
    /// </summary>
    public static TorchWeights For(ModelProfile profile, ParallelLayout layout, ShardingRules rules, int stage, int bufferDtypeBytes)
    {
        var format = profile.Format;
        var order = new List<(int Layer, string Parameter)>();
        var parts = new Dictionary<(int Layer, string Parameter), (long Main, long Aux)>();
        foreach (var share in RankWeights.Tensors(profile, layout, rules, stage))
        {
            var t = share.Tensor;
            long full = format.Bytes(t);
            long main = full == 0 ? 0 : (long)Math.Round(share.Bytes * (double)format.PayloadBytes(t) / full);
            var key = (t.Layer, ParameterOf(t, profile.Model));
            if (parts.TryGetValue(key, out var p))
            {
                parts[key] = (p.Main + main, p.Aux + share.Bytes - main);
            }
            else
            {
                order.Add(key);
                parts[key] = (main, share.Bytes - main);
            }
        }

        // vLLM builds the model top-down: embedding, then the decoder layers in order, then the final norm and lm_head
        order = [.. order.Select((key, index) => (key, index))
            .OrderBy(x => x.key.Layer >= 0 ? 1 : x.key.Parameter.StartsWith("token_embd", StringComparison.Ordinal) || x.key.Parameter.StartsWith("position_embd", StringComparison.Ordinal) ? 0 : 2)
            .ThenBy(x => x.key.Layer)
            .ThenBy(x => x.index)
            .Select(x => x.key)];
        var rotary = RotaryTables(profile.Model, RankWeights.StageLayers(profile.Model, layout, rules, stage));
        int rotaryAfter = order.FindIndex(k => k.Parameter.EndsWith(".attn_output.weight", StringComparison.Ordinal));
        var allocator = new TorchCachingAllocator();
        long tables = 0;
        for (int i = 0; i < order.Count; i++)
        {
            var (main, aux) = parts[order[i]];
            allocator.Allocate(main);
            allocator.Allocate(aux);
            if (i == rotaryAfter)
                tables = CreateRotaryTables(allocator, rotary, bufferDtypeBytes);
        }

        if (rotaryAfter < 0)
            tables = CreateRotaryTables(allocator, rotary, bufferDtypeBytes);
        long allocated = allocator.AllocatedBytes;
        // what the device's free memory shows once the loader has called torch.cuda.empty_cache()
        allocator.EmptyCache();
        long vision = RankWeights.VisionEncoderBytes(profile, layout, stage);
        return new TorchWeights(allocator.RequestedBytes - tables + vision, allocated + vision, allocator.ReservedBytes + vision, tables, order.Count);
    }

    /// <summary>(positions, dims) of each distinct (dims, base, positions) table the layers of the stage create.</summary>
    private static List<(int Positions, int Dims)> RotaryTables(ModelDescription model, (int First, int Count) layers)
    {
        var seen = new HashSet<(int, double, int)>();
        var tables = new List<(int, int)>();
        for (int i = layers.First; i < layers.First + layers.Count && i < model.Layers.Length; i++)
        {
            var a = model.Layers[i].Attention;
            int positions = a.RotaryPositions > 0 ? a.RotaryPositions : model.MaxContext;
            if (a.RotaryDims > 0 && positions > 0 && seen.Add((a.RotaryDims, a.RotaryBase, positions)))
                tables.Add((positions, a.RotaryDims));
        }

        return tables;
    }

    /// <summary>
    /// The allocations of <c>RotaryEmbedding._compute_cos_sin_cache</c> on the device: positions t (fp32), the
    /// outer product freqs, its cos and sin (fp32, [positions, dims/2] each), their concatenation (fp32,
    /// [positions, dims]); the temporaries die when it returns, and <c>cache.to(dtype)</c> makes the table the
    /// model keeps. The freed temporaries stay cached as free blocks that later parameters reuse. Returns the tables' bytes.
    /// </summary>
    private static long CreateRotaryTables(TorchCachingAllocator allocator, List<(int Positions, int Dims)> tables, int dtypeBytes)
    {
        long kept = 0;
        foreach (var (positions, d) in tables)
        {
            long half = (long)positions * (d / 2) * 4;
            var t = allocator.Allocate((long)positions * 4);
            var freqs = allocator.Allocate(half);
            var cos = allocator.Allocate(half);
            var sin = allocator.Allocate(half);
            var cat = allocator.Allocate((long)positions * d * 4);
            allocator.Free(t);
            allocator.Free(freqs);
            allocator.Free(cos);
            allocator.Free(sin);
            long bytes = (long)positions * d * dtypeBytes;
            if (dtypeBytes != 4)
            {
                // float32 models keep the concatenation itself (.to is a no-op)
                allocator.Allocate(bytes);
                allocator.Free(cat);
            }

            kept += bytes;
        }

        return kept;
    }

    /// <summary>The engine parameter a checkpoint tensor is loaded into (vLLM's merged linear layers).</summary>
    private static string ParameterOf(in WeightTensor t, ModelDescription model)
    {
        bool attentionHeads = t.Layer >= 0 && model.Layers[t.Layer].Attention.Kind is AttentionKind.Full or AttentionKind.SlidingWindow;
        return t.Role switch
        {
            TensorRole.AttentionQuery or TensorRole.AttentionKey or TensorRole.AttentionValue or TensorRole.AttentionQkv when attentionHeads => "qkv_proj",
            TensorRole.FfnGate or TensorRole.FfnUp or TensorRole.FfnGateUp => "gate_up_proj",
            TensorRole.SharedExpertGate or TensorRole.SharedExpertUp => "shared_experts.gate_up_proj",
            TensorRole.ExpertGate or TensorRole.ExpertUp or TensorRole.ExpertGateUp => "experts.w13",
            TensorRole.ExpertDown => "experts.w2",
            TensorRole.Bias when RankWeights.ColumnParallelBiasOf(t.Name) is { } projection => projection + ".bias",
            _ => t.Name,
        };
    }
}
