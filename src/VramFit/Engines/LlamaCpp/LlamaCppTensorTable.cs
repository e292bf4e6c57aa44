using System.Runtime.CompilerServices;
using VramFit.Models;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// A checkpoint's tensor bytes summed once per layer and role (1-D tensors, matrices, routed experts; the input
/// and output layers), so placing a model costs a loop over layers instead of over every tensor. Built once per
/// <see cref="Checkpoint"/> and cached; per-tensor placement is only needed for --override-tensor patterns.
/// </summary>
internal sealed class LlamaCppTensorTable
{
    private static readonly ConditionalWeakTable<Checkpoint, LlamaCppTensorTable> Cache = [];

    private LlamaCppTensorTable(Checkpoint checkpoint, int layers)
    {
        VectorBytes = new long[layers];
        MatrixBytes = new long[layers];
        ExpertBytes = new long[layers];
        LargestMatrix = new long[layers];
        LargestExpert = new long[layers];
        foreach (var t in checkpoint.Tensors)
        {
            bool vector = t.Elements > 0 && !t.Name.EndsWith(".weight", StringComparison.Ordinal) || t.Name.Contains("norm", StringComparison.Ordinal)
                || t.Name.Contains("sinks", StringComparison.Ordinal);
            if (t.Layer >= 0 && t.Layer < layers)
            {
                int il = t.Layer;
                if (t.Name.Contains("_exps", StringComparison.Ordinal))
                {
                    ExpertBytes[il] += t.Bytes;
                    LargestExpert[il] = Math.Max(LargestExpert[il], t.Bytes);
                }
                else if (vector)
                {
                    VectorBytes[il] += t.Bytes;
                }
                else
                {
                    MatrixBytes[il] += t.Bytes;
                    LargestMatrix[il] = Math.Max(LargestMatrix[il], t.Bytes);
                }
            }
            else if (t.Name.StartsWith("token_embd", StringComparison.Ordinal) || t.Name.StartsWith("position_embd", StringComparison.Ordinal) || t.Name.StartsWith("token_types", StringComparison.Ordinal))
            {
                InputBytes += t.Bytes;
                if (t.Name == "token_embd.weight")
                    TokenEmbeddingBytes = t.Bytes;
            }
            else
            {
                OutputBytes += t.Bytes;
                LargestOutputMatrix = Math.Max(LargestOutputMatrix, vector ? 0 : t.Bytes);
                HasOutputWeight |= t.Name == "output.weight";
            }
        }
    }

    public static LlamaCppTensorTable For(Checkpoint checkpoint, int layers) =>
        Cache.GetValue(checkpoint, c => new LlamaCppTensorTable(c, layers));

    /// <summary>Norms, biases and other 1-D tensors of each layer (they stay on the main GPU with row split).</summary>
    public long[] VectorBytes { get; }

    /// <summary>Non-expert matrices of each layer.</summary>
    public long[] MatrixBytes { get; }

    /// <summary>Routed-expert tensors of each layer (what --n-cpu-moe moves).</summary>
    public long[] ExpertBytes { get; }

    public long[] LargestMatrix { get; }

    public long[] LargestExpert { get; }

    /// <summary>Token (and position) embeddings: the input layer, always in host memory.</summary>
    public long InputBytes { get; }

    public long TokenEmbeddingBytes { get; }

    /// <summary>output_norm, output.weight and other tensors of the output layer.</summary>
    public long OutputBytes { get; }

    public long LargestOutputMatrix { get; }

    public bool HasOutputWeight { get; }
}
