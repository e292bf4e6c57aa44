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
        Parts = 1;
        foreach (var t in checkpoint.Tensors)
            Parts = Math.Max(Parts, t.Part + 1);
        Extents = new FileExtents[Parts];
        for (int part = 0; part < Parts; part++)
            Extents[part] = new FileExtents(layers);
        var next = new long[Parts];
        TensorExtent = new Extent[checkpoint.Tensors.Length];
        for (int i = 0; i < checkpoint.Tensors.Length; i++)
        {
            var t = checkpoint.Tensors[i];
            // where the data sits in its file: the GGUF offset, else back to back in list order padded to the
            // default general.alignment (32, gguf.c GGUF_DEFAULT_ALIGNMENT)
            long start = t.Offset >= 0 ? t.Offset : next[t.Part];
            long end = start + t.Bytes;
            next[t.Part] = Math.Max(next[t.Part], (end + 31) / 32 * 32);
            TensorExtent[i] = new Extent(start, end);
            var x = Extents[t.Part];
            bool vector = t.Elements > 0 && !t.Name.EndsWith(".weight", StringComparison.Ordinal) || t.Name.Contains("norm", StringComparison.Ordinal)
                || t.Name.Contains("sinks", StringComparison.Ordinal);
            if (t.Layer >= 0 && t.Layer < layers)
            {
                int il = t.Layer;
                x.Layer[il] = x.Layer[il].With(start, end);
                if (t.Name.Contains("_exps", StringComparison.Ordinal))
                {
                    x.Expert[il] = x.Expert[il].With(start, end);
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
            else if (IsInputLayer(t.Name))
            {
                x.Input = x.Input.With(start, end);
                InputBytes += t.Bytes;
                if (t.Name == "token_embd.weight")
                    TokenEmbeddingBytes = t.Bytes;
            }
            else
            {
                x.Output = x.Output.With(start, end);
                OutputBytes += t.Bytes;
                LargestOutputMatrix = Math.Max(LargestOutputMatrix, vector ? 0 : t.Bytes);
                HasOutputWeight |= t.Name == "output.weight";
            }
        }
    }

    /// <summary>A tensor of llama.cpp's input layer (LLM_TENSOR_LAYER_INPUT: token, position and token-type embeddings),
    /// which load_tensors always keeps in host memory.</summary>
    public static bool IsInputLayer(string name) =>
        name.StartsWith("token_embd", StringComparison.Ordinal) || name.StartsWith("position_embd", StringComparison.Ordinal)
        || name.StartsWith("token_types", StringComparison.Ordinal);

    /// <summary>Byte range [Start, End) in a file; empty when Start ≥ End.</summary>
    internal readonly record struct Extent(long Start, long End)
    {
        public static readonly Extent Empty = new(long.MaxValue, long.MinValue);

        public Extent With(long start, long end) => new(Math.Min(Start, start), Math.Max(End, end));

        public Extent With(Extent other) => new(Math.Min(Start, other.Start), Math.Max(End, other.End));

        public long Length => End > Start ? End - Start : 0;
    }

    /// <summary>The file ranges of the input layer, each block, each block's experts and the output layer in one file.</summary>
    internal sealed class FileExtents
    {
        public FileExtents(int layers)
        {
            Layer = new Extent[layers];
            Expert = new Extent[layers];
            Array.Fill(Layer, Extent.Empty);
            Array.Fill(Expert, Extent.Empty);
        }

        public Extent Input { get; set; } = Extent.Empty;

        public Extent Output { get; set; } = Extent.Empty;

        public Extent[] Layer { get; }

        public Extent[] Expert { get; }
    }

    /// <summary>Files of a split GGUF (1 for a single file).</summary>
    public int Parts { get; }

    /// <summary>Per file: where the input layer, blocks, experts and output layer lie (for the mmap'd host buffers).</summary>
    internal FileExtents[] Extents { get; }

    /// <summary>Each tensor's byte range in its file, in the checkpoint's tensor order.</summary>
    internal Extent[] TensorExtent { get; }

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
