using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// Type and extents of a tensor: what ggml_are_same_layout compares (ggml/src/ggml.c) when ggml-alloc decides whether
/// a node may overwrite its parent. Compute tensors that own memory are contiguous, so the extents decide the strides.
/// </summary>
/// <remarks>Compute tensors are f32, f16, i32 or i64: one element per block.</remarks>
internal readonly record struct GgmlShape(GgmlType Type, long Ne0, long Ne1 = 1, long Ne2 = 1, long Ne3 = 1)
{
    public long Elements => Ne0 * Ne1 * Ne2 * Ne3;

    /// <summary>ggml_nbytes of a contiguous tensor.</summary>
    public long Bytes => Elements * GgmlTypes.Get(Type).TypeSize;
}

/// <summary>
/// A ggml compute graph reduced to what ggml-alloc looks at (ggml/src/ggml-alloc.c, llama.cpp b10221): the leafs
/// (graph inputs) in discovery order, then the nodes in execution order, each with its size, its sources, the tensor
/// it is a view of, whether its op may run in place (ggml_op_can_inplace) and the input/output flags. Weights and
/// KV-cache tensors live in their own buffers, so they are left out of the sources: ggml-alloc never allocates or
/// frees them. A node that writes into such a buffer (SET_ROWS into the cache) is marked external.
/// </summary>
internal sealed class GgmlGraph
{
    /// <summary>GGML_MAX_SRC; llama.cpp's ops read at most four compute tensors here.</summary>
    public const int MaxSources = 4;

    private const byte InputFlag = 1, OutputFlag = 2, ExternalFlag = 4, InplaceFlag = 8;

    private GgmlShape[] shapes = new GgmlShape[256];
    private int[] viewOf = new int[256];
    private int[] sources = new int[256 * MaxSources];
    private byte[] flags = new byte[256];
    private string[] names = new string[256];
    private readonly List<int> nodes = [];
    private readonly List<int> leafs = [];

    public int TensorCount { get; private set; }

    public IReadOnlyList<int> Nodes => nodes;

    public IReadOnlyList<int> Leafs => leafs;

    public GgmlShape Shape(int t) => shapes[t];

    public long Bytes(int t) => shapes[t].Bytes;

    public string Name(int t) => names[t];

    /// <summary>The tensor whose memory <paramref name="t"/> views, −1 for a tensor with its own memory.</summary>
    public int ViewOf(int t) => viewOf[t];

    public int Source(int t, int i) => sources[t * MaxSources + i];

    public bool IsInput(int t) => (flags[t] & InputFlag) != 0;

    public bool IsOutput(int t) => (flags[t] & OutputFlag) != 0;

    /// <summary>Memory outside the compute buffer (a view into the KV cache).</summary>
    public bool IsExternal(int t) => (flags[t] & ExternalFlag) != 0;

    public bool CanRunInPlace(int t) => (flags[t] & InplaceFlag) != 0;

    /// <summary>A graph input (ggml_set_input): a leaf allocated before any node runs.</summary>
    public int Input(string name, GgmlShape shape)
    {
        int t = Add(name, shape, -1, InputFlag, -1, -1, -1, -1);
        leafs.Add(t);
        return t;
    }

    /// <summary>An op whose result has its own memory.</summary>
    /// <param name="inplace">ggml_op_can_inplace of the op: SCALE, ADD, SUB, MUL, DIV, SQR, SQRT, LOG, UNARY, ROPE,
    /// RMS_NORM, CLAMP, SOFT_MAX, ADD_ID, DIAG_MASK_* (ggml-alloc.c); never GLU, NORM, MUL_MAT, CONT, CPY, GET_ROWS.</param>
    public int Op(string name, GgmlShape shape, bool inplace, int s0, int s1 = -1, int s2 = -1, int s3 = -1)
    {
        int t = Add(name, shape, -1, inplace ? InplaceFlag : (byte)0, s0, s1, s2, s3);
        nodes.Add(t);
        return t;
    }

    /// <summary>A view op (VIEW, RESHAPE, PERMUTE, TRANSPOSE) of <paramref name="parent"/>: no memory of its own; it
    /// keeps the viewed tensor alive until its own consumers ran.</summary>
    public int View(int parent, GgmlShape shape)
    {
        int root = viewOf[parent] >= 0 ? viewOf[parent] : parent;
        int t = Add(names[parent] + " (view)", shape, root, (byte)(flags[root] & ExternalFlag), parent, -1, -1, -1);
        nodes.Add(t);
        return t;
    }

    /// <summary>A node writing into a buffer ggml-alloc does not manage (SET_ROWS / CPY into the KV cache).</summary>
    public int ExternalOp(string name, GgmlShape shape, int s0, int s1 = -1, int s2 = -1)
    {
        int t = Add(name, shape, -1, ExternalFlag, s0, s1, s2, -1);
        nodes.Add(t);
        return t;
    }

    /// <summary>ggml_set_output: never freed, never overwritten in place.</summary>
    public void MarkOutput(int t) => flags[t] |= OutputFlag;

    private int Add(string name, GgmlShape shape, int view, byte flag, int s0, int s1, int s2, int s3)
    {
        int t = TensorCount++;
        if (t == shapes.Length)
        {
            Array.Resize(ref shapes, t * 2);
            Array.Resize(ref viewOf, t * 2);
            Array.Resize(ref sources, t * 2 * MaxSources);
            Array.Resize(ref flags, t * 2);
            Array.Resize(ref names, t * 2);
        }

        shapes[t] = shape;
        viewOf[t] = view;
        flags[t] = flag;
        names[t] = name;
        int b = t * MaxSources;
        sources[b] = s0;
        sources[b + 1] = s1;
        sources[b + 2] = s2;
        sources[b + 3] = s3;
        return t;
    }
}
