using VramFit.Sources.Gguf;

namespace VramFit.Tests.Sources.Gguf;

/// <summary>GGUF metadata of real checkpoints, written in code (values as printed by llama.cpp's print_info).</summary>
internal static class GgufMetadataFixtures
{
    public static GgufMetadata Meta(string arch, params (string Key, object Value)[] keys)
    {
        var values = new List<KeyValuePair<string, object>> { new("general.architecture", arch) };
        foreach (var (k, v) in keys)
            values.Add(new(k.StartsWith('.') ? arch + k : k, v is int i ? (long)i : v));
        return new GgufMetadata(values);
    }

    public static GgufArray Ints(params long[] values) => new("int32", values.Cast<object>().ToList());

    public static GgufMetadata Qwen3_30B_A3B(string ftype = "Q4_K_M") => Meta("qwen3moe",
        (".block_count", 48), (".context_length", 40960), (".embedding_length", 2048), (".feed_forward_length", 6144),
        (".attention.head_count", 32), (".attention.head_count_kv", 4), (".attention.key_length", 128), (".attention.value_length", 128),
        (".expert_count", 128), (".expert_used_count", 8), (".expert_feed_forward_length", 768),
        ("tokenizer.vocab_size", 151936), ("general.file_type_name", ftype));

    public static GgufMetadata Gemma3_27B() => Meta("gemma3",
        (".block_count", 62), (".context_length", 131072), (".embedding_length", 5376), (".feed_forward_length", 21504),
        (".attention.head_count", 32), (".attention.head_count_kv", 16), (".attention.key_length", 128), (".attention.value_length", 128),
        (".attention.sliding_window", 1024), ("tokenizer.vocab_size", 262208), ("general.file_type_name", "Q4_K_M"));

    public static GgufMetadata GptOss_20B() => Meta("gpt-oss",
        (".block_count", 24), (".context_length", 131072), (".embedding_length", 2880), (".feed_forward_length", 2880),
        (".attention.head_count", 64), (".attention.head_count_kv", 8), (".attention.key_length", 64), (".attention.value_length", 64),
        (".expert_count", 32), (".expert_used_count", 4), (".expert_feed_forward_length", 2880), (".attention.sliding_window", 128),
        ("tokenizer.vocab_size", 201088), ("general.file_type_name", "MXFP4_MOE"));

    /// <summary>DeepSeek-V3 as converted before MLA support (key_length 192, value_length 128, 128 KV heads).</summary>
    public static GgufMetadata DeepSeekV3(string ftype = "Q4_K_M") => Meta("deepseek2",
        (".block_count", 61), (".context_length", 163840), (".embedding_length", 7168), (".feed_forward_length", 18432),
        (".attention.head_count", 128), (".attention.head_count_kv", 128), (".attention.key_length", 192), (".attention.value_length", 128),
        (".expert_count", 256), (".expert_used_count", 8), (".expert_feed_forward_length", 2048), (".expert_shared_count", 1),
        (".leading_dense_block_count", 3), (".attention.q_lora_rank", 1536), (".attention.kv_lora_rank", 512), (".rope.dimension_count", 64),
        ("tokenizer.vocab_size", 129280), ("general.file_type_name", ftype));

    /// <summary>DeepSeek-V3 converted for MLA (llama.cpp PR 12801): the cache layout is one 576/512 latent "head".</summary>
    public static GgufMetadata DeepSeekV3Mla() => Meta("deepseek2",
        (".block_count", 61), (".embedding_length", 7168), (".feed_forward_length", 18432),
        (".attention.head_count", 128), (".attention.head_count_kv", 1), (".attention.key_length", 576), (".attention.value_length", 512),
        (".attention.key_length_mla", 192), (".attention.value_length_mla", 128),
        (".expert_count", 256), (".expert_used_count", 8), (".expert_feed_forward_length", 2048), (".expert_shared_count", 1),
        (".leading_dense_block_count", 3), (".attention.q_lora_rank", 1536), (".attention.kv_lora_rank", 512), (".rope.dimension_count", 64),
        ("tokenizer.vocab_size", 129280), ("general.file_type_name", "Q4_K_M"));

    public static GgufMetadata Glm4_32B() => Meta("glm4",
        (".block_count", 61), (".context_length", 32768), (".embedding_length", 6144), (".feed_forward_length", 23040),
        (".attention.head_count", 48), (".attention.head_count_kv", 2), (".attention.key_length", 128), (".attention.value_length", 128),
        ("tokenizer.vocab_size", 151552), ("general.file_type_name", "IQ4_XS"));

    public static GgufMetadata Llama2_13B() => Meta("llama",
        (".block_count", 40), (".context_length", 4096), (".embedding_length", 5120), (".feed_forward_length", 13824),
        (".attention.head_count", 40), (".attention.head_count_kv", 40), ("tokenizer.vocab_size", 32000), ("general.file_type_name", "Q8_0"));
}
