using VramFit.Numerics;
using VramFit.Sources.Gguf;

namespace VramFit.Tests.Sources.Gguf;

/// <summary>Small, real-format GGUF files built in code.</summary>
internal static class GgufFixtures
{
    /// <summary>A llama-shaped model: embeddings, <paramref name="layers"/> blocks, output; tokens as strings.</summary>
    public static GgufWriter Llama(int layers = 2, int hidden = 256, int vocab = 64, GgmlType weights = GgmlType.Q4_K, int version = 3)
    {
        var w = new GgufWriter(version)
            .Add("general.architecture", "llama")
            .Add("general.name", "tiny-llama")
            .Add("general.file_type", 15u)
            .Add("llama.block_count", (uint)layers)
            .Add("llama.embedding_length", (uint)hidden)
            .Add("llama.feed_forward_length", (uint)(hidden * 2))
            .Add("llama.attention.head_count", 4u)
            .Add("llama.attention.head_count_kv", 2u)
            .Add("llama.rope.freq_base", 10000f)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("tokenizer.ggml.model", "gpt2")
            .AddArray("tokenizer.ggml.tokens", GgufValueType.String, Enumerable.Range(0, vocab).Select(i => (object)$"tok{i}"))
            .AddArray("tokenizer.ggml.scores", GgufValueType.Float32, Enumerable.Range(0, vocab).Select(i => (object)(float)i))
            .AddArray("tokenizer.ggml.token_type", GgufValueType.Int32, Enumerable.Range(0, vocab).Select(_ => (object)1));
        w.AddTensor("token_embd.weight", weights, hidden, vocab);
        for (int i = 0; i < layers; i++)
        {
            w.AddTensor($"blk.{i}.attn_norm.weight", GgmlType.F32, hidden);
            w.AddTensor($"blk.{i}.attn_q.weight", weights, hidden, hidden);
            w.AddTensor($"blk.{i}.attn_k.weight", weights, hidden, hidden / 2);
            w.AddTensor($"blk.{i}.attn_v.weight", GgmlType.Q6_K, hidden, hidden / 2);
            w.AddTensor($"blk.{i}.attn_output.weight", weights, hidden, hidden);
            w.AddTensor($"blk.{i}.ffn_norm.weight", GgmlType.F32, hidden);
            w.AddTensor($"blk.{i}.ffn_gate.weight", weights, hidden, hidden * 2);
            w.AddTensor($"blk.{i}.ffn_up.weight", weights, hidden, hidden * 2);
            w.AddTensor($"blk.{i}.ffn_down.weight", GgmlType.Q6_K, hidden * 2, hidden);
        }

        w.AddTensor("output_norm.weight", GgmlType.F32, hidden);
        w.AddTensor("output.weight", GgmlType.Q6_K, hidden, vocab);
        return w;
    }

    public static GgufFile Read(byte[] bytes, GgufReadOptions? options = null) =>
        GgufReader.Read(new MemoryStream(bytes), "test.gguf", options: options);

    /// <summary>A stream that cannot seek and hands out at most <paramref name="chunk"/> bytes per read, like a network body.</summary>
    public sealed class ForwardOnlyStream(byte[] data, int chunk = 7) : Stream
    {
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - position);
            Array.Copy(data, position, buffer, offset, n);
            position += n;
            return n;
        }
    }
}
