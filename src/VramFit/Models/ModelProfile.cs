using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using VramFit.Numerics;

namespace VramFit.Models;

/// <summary>
/// Per-layer tables precomputed once from a <see cref="ModelDescription"/> (and an optional weight format),
/// so engine estimates in the planner's inner loop do arithmetic on arrays instead of walking tensors.
/// Shared by every engine model: KV elements per token, recurrent state, weight bytes per layer.
/// </summary>
public sealed class ModelProfile
{
    private ModelProfile(ModelDescription model, WeightFormat format)
    {
        Model = model;
        Format = format;
        Tensors = TensorInventory.Build(model);
        int n = model.Layers.Length;
        var layerBytes = new long[n];
        var layerParams = new long[n];
        var expertBytes = new long[n];
        var largestPacked = new long[n];
        long parameters = 0, embedding = 0, output = 0, otherGlobal = 0;
        foreach (var t in Tensors)
        {
            long bytes = format.Bytes(t);
            parameters += t.Elements;
            if (t.Layer >= 0)
            {
                layerBytes[t.Layer] += bytes;
                layerParams[t.Layer] += t.Elements;
                if (t.IsRoutedExpert)
                    expertBytes[t.Layer] += bytes;
                if (format.Packs(t))
                    largestPacked[t.Layer] = Math.Max(largestPacked[t.Layer], t.Columns * t.Rows);
            }
            else if (t.Role == TensorRole.TokenEmbedding || t.Role == TensorRole.PositionEmbedding)
            {
                embedding += bytes;
            }
            else if (t.Role is TensorRole.OutputHead or TensorRole.OutputBias)
            {
                output += bytes;
            }
            else
            {
                otherGlobal += bytes;
            }
        }

        Parameters = parameters;
        LayerWeightBytes = [.. layerBytes];
        LayerParameters = [.. layerParams];
        LayerRoutedExpertBytes = [.. expertBytes];
        LayerLargestPackedMatrix = [.. largestPacked];
        EmbeddingBytes = embedding;
        OutputHeadBytes = output;
        OtherGlobalBytes = otherGlobal;

        var k = new long[n];
        var v = new long[n];
        var conv = new long[n];
        var ssm = new long[n];
        for (int i = 0; i < n; i++)
        {
            var layer = model.Layers[i];
            if (layer.OwnsKvCache)
            {
                k[i] = layer.Attention.KeyElementsPerToken;
                v[i] = layer.Attention.ValueElementsPerToken;
            }

            if (layer.OwnsRecurrentState)
            {
                conv[i] = layer.Attention.Recurrent!.ConvStateElements;
                ssm[i] = layer.Attention.Recurrent!.SsmStateElements;
            }
        }

        KeyElementsPerToken = [.. k];
        ValueElementsPerToken = [.. v];
        ConvStateElements = [.. conv];
        SsmStateElements = [.. ssm];
    }

    /// <summary>Builds the profile of <paramref name="model"/> stored in <paramref name="format"/>
    /// (default: the checkpoint's declared format, else its dense dtype).</summary>
    /// <remarks>Profiles are cached per description and format: the planner estimates the same model
    /// thousands of times with other workloads, and building the tensor inventory is the costly part.</remarks>
    public static ModelProfile Create(ModelDescription model, WeightFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var f = format ?? model.CheckpointFormat ?? WeightFormat.DenseOf(model.Dtype);
        var perModel = Cache.GetValue(model, _ => new ConcurrentDictionary<WeightFormat, ModelProfile>());
        return perModel.GetOrAdd(f, static (key, m) => new ModelProfile(m, key), model);
    }

    private static readonly ConditionalWeakTable<ModelDescription, ConcurrentDictionary<WeightFormat, ModelProfile>> Cache = new();

    public ModelDescription Model { get; }

    public WeightFormat Format { get; }

    public ImmutableArray<WeightTensor> Tensors { get; }

    /// <summary>Logical parameters (every tensor's elements).</summary>
    public long Parameters { get; }

    /// <summary>Weight bytes of each block under <see cref="Format"/>.</summary>
    public ImmutableArray<long> LayerWeightBytes { get; }

    public ImmutableArray<long> LayerParameters { get; }

    /// <summary>Bytes of each block's routed experts (what expert offload / EP moves).</summary>
    public ImmutableArray<long> LayerRoutedExpertBytes { get; }

    /// <summary>Elements of each block's largest matrix that <see cref="Format"/> packs (what a dequantizing kernel
    /// expands to 16 bits at once); 0 for dense formats.</summary>
    public ImmutableArray<long> LayerLargestPackedMatrix { get; }

    public long EmbeddingBytes { get; }

    public long OutputHeadBytes { get; }

    /// <summary>Final norm and other tensors outside the blocks.</summary>
    public long OtherGlobalBytes { get; }

    public long TotalWeightBytes => EmbeddingBytes + OutputHeadBytes + OtherGlobalBytes + Sum(LayerWeightBytes);

    /// <summary>Key elements cached per token by each layer (0 for layers without a standard cache; MLA layers
    /// are 0 here because each engine stores the latent differently: read <see cref="LayerSpec.Attention"/>.Mla).</summary>
    public ImmutableArray<long> KeyElementsPerToken { get; }

    public ImmutableArray<long> ValueElementsPerToken { get; }

    /// <summary>Per-sequence convolution state elements of each recurrent layer.</summary>
    public ImmutableArray<long> ConvStateElements { get; }

    /// <summary>Per-sequence SSM / linear-attention state elements of each recurrent layer.</summary>
    public ImmutableArray<long> SsmStateElements { get; }

    private static long Sum(ImmutableArray<long> values)
    {
        long s = 0;
        foreach (var v in values)
            s += v;
        return s;
    }
}
