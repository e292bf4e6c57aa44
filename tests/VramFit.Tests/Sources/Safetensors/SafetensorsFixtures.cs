using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using VramFit.Sources.Safetensors;

namespace VramFit.Tests.Sources.Safetensors;

/// <summary>Writes real-format safetensors files (zero data) from a tensor list.</summary>
internal static class SafetensorsFixtures
{
    public sealed record T(string Name, string Dtype, params long[] Shape);

    public static byte[] Header(IEnumerable<T> tensors, IReadOnlyDictionary<string, string>? metadata, out long dataLength)
    {
        var sb = new StringBuilder("{");
        if (metadata is not null)
            sb.Append("\"__metadata__\":").Append(JsonSerializer.Serialize(metadata)).Append(',');
        long offset = 0;
        foreach (var t in tensors)
        {
            long elements = t.Shape.Aggregate(1L, (a, b) => a * b);
            long bytes = SafetensorsDtypes.Bytes(t.Dtype, elements) ?? throw new ArgumentException(t.Name);
            sb.Append($"\"{t.Name}\":{{\"dtype\":\"{t.Dtype}\",\"shape\":[{string.Join(',', t.Shape)}],\"data_offsets\":[{offset},{offset + bytes}]}},");
            offset += bytes;
        }

        if (sb[^1] == ',')
            sb.Length--;
        sb.Append('}');
        // The reference writer pads the header with spaces to a multiple of 8.
        while (Encoding.UTF8.GetByteCount(sb.ToString()) % 8 != 0)
            sb.Append(' ');
        dataLength = offset;
        var json = Encoding.UTF8.GetBytes(sb.ToString());
        var result = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        return result;
    }

    public static byte[] Bytes(IEnumerable<T> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = Header(tensors, metadata, out long data);
        var all = new byte[header.Length + data];
        header.CopyTo(all, 0);
        return all;
    }

    /// <summary>Writes a sparse file: header, then zeros up to the data length.</summary>
    public static void WriteFile(string path, IEnumerable<T> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = Header(tensors, metadata, out long data);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        f.Write(header);
        f.SetLength(header.Length + data);
    }

    /// <summary>HF llama tensors: embeddings, blocks, final norm, lm_head (untied).</summary>
    public static List<T> Llama(int layers, int hidden, int intermediate, int heads, int kvHeads, int vocab, string dtype = "BF16")
    {
        int headDim = hidden / heads;
        var list = new List<T> { new("model.embed_tokens.weight", dtype, vocab, hidden) };
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add(new(p + "input_layernorm.weight", dtype, hidden));
            list.Add(new(p + "self_attn.q_proj.weight", dtype, heads * headDim, hidden));
            list.Add(new(p + "self_attn.k_proj.weight", dtype, kvHeads * headDim, hidden));
            list.Add(new(p + "self_attn.v_proj.weight", dtype, kvHeads * headDim, hidden));
            list.Add(new(p + "self_attn.o_proj.weight", dtype, hidden, heads * headDim));
            list.Add(new(p + "post_attention_layernorm.weight", dtype, hidden));
            list.Add(new(p + "mlp.gate_proj.weight", dtype, intermediate, hidden));
            list.Add(new(p + "mlp.up_proj.weight", dtype, intermediate, hidden));
            list.Add(new(p + "mlp.down_proj.weight", dtype, hidden, intermediate));
        }

        list.Add(new("model.norm.weight", dtype, hidden));
        list.Add(new("lm_head.weight", dtype, vocab, hidden));
        return list;
    }

    /// <summary>GPTQ tensors of one [out × in] linear layer (ENGINE-MEMORY-FACTS layouts).</summary>
    public static IEnumerable<T> Gptq(string prefix, long input, long output, int bits = 4, int group = 128)
    {
        long groups = (input + group - 1) / group;
        yield return new(prefix + ".qweight", "I32", input * bits / 32, output);
        yield return new(prefix + ".qzeros", "I32", groups, output * bits / 32);
        yield return new(prefix + ".scales", "F16", groups, output);
        yield return new(prefix + ".g_idx", "I32", input);
    }

    public static string LlamaConfig(int layers, int hidden, int intermediate, int heads, int kvHeads, int vocab, string? quantizationConfig = null) =>
        $$"""
        {"model_type":"llama","architectures":["LlamaForCausalLM"],"hidden_size":{{hidden}},"intermediate_size":{{intermediate}},
         "num_hidden_layers":{{layers}},"num_attention_heads":{{heads}},"num_key_value_heads":{{kvHeads}},"vocab_size":{{vocab}},
         "max_position_embeddings":4096,"rms_norm_eps":1e-5,"rope_theta":10000.0,"tie_word_embeddings":false,"torch_dtype":"bfloat16"
         {{(quantizationConfig is null ? "" : ",\"quantization_config\":" + quantizationConfig)}}}
        """;
}
