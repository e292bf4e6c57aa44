using BenchmarkDotNet.Attributes;
using VramFit.Numerics;
using VramFit.Sources.Gguf;

namespace VramFit.Benchmarks;

/// <summary>
/// Parsing a GGUF header from disk: a large vocabulary (the tokens, scores and token types arrays dominate the
/// header) and a realistic tensor count. Issue 3 asks for ≤ 20 ms at 128k tokens and ~700 tensors.
/// </summary>
[MemoryDiagnoser]
public class GgufReadBenchmarks
{
    private string path = "";

    [Params(131_072, 262_144)]
    public int Vocabulary { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int tensors = Vocabulary > 200_000 ? 1000 : 700;
        int layers = (tensors - 3) / 9;
        var w = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("llama.block_count", (uint)layers)
            .Add("llama.embedding_length", 4096u)
            .Add("tokenizer.ggml.model", "gpt2")
            .AddArray("tokenizer.ggml.tokens", GgufValueType.String, Enumerable.Range(0, Vocabulary).Select(i => (object)$"Ġtoken_{i}"))
            .AddArray("tokenizer.ggml.token_type", GgufValueType.Int32, Enumerable.Range(0, Vocabulary).Select(_ => (object)1))
            .AddArray("tokenizer.ggml.merges", GgufValueType.String, Enumerable.Range(0, Vocabulary).Select(i => (object)$"Ġt oken_{i}"));
        w.AddTensor("token_embd.weight", GgmlType.Q4_K, 4096, Vocabulary);
        string[] names = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"];
        for (int i = 0; i < layers; i++)
            foreach (var n in names)
                w.AddTensor($"blk.{i}.{n}.weight", n.EndsWith("norm", StringComparison.Ordinal) ? GgmlType.F32 : GgmlType.Q4_K, 4096, n.EndsWith("norm", StringComparison.Ordinal) ? 1 : 4096);
        w.AddTensor("output_norm.weight", GgmlType.F32, 4096);
        w.AddTensor("output.weight", GgmlType.Q6_K, 4096, Vocabulary);
        path = Path.Combine(Path.GetTempPath(), $"vramfit-bench-{Vocabulary}.gguf");
        w.WriteFile(path);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(path);

    [Benchmark(Baseline = true)]
    public long ReadHeader() => GgufReader.ReadFile(path).Checkpoint.TotalBytes;

    [Benchmark]
    public long ReadHeaderKeepingTokenizer() => GgufReader.ReadFile(path, new GgufReadOptions { KeepTokenizerArrays = true }).Checkpoint.TotalBytes;
}
