using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Sources.Gguf;

/// <summary>
/// Translates GGUF metadata (<c>general.architecture</c> and the <c>&lt;arch&gt;.*</c> hyper-parameters) into a
/// <see cref="ModelDescription"/>. Key semantics follow llama.cpp's <c>src/llama-model.cpp</c>
/// (<c>load_hparams</c>/<c>load_tensors</c>) and <c>src/llama-arch.cpp</c>: per-layer arrays win over scalars,
/// interleaved sliding-window layouts fall back to the period llama.cpp hard-codes per architecture.
/// </summary>
/// <remarks>
/// For MLA layers the <see cref="AttentionSpec.KvHeadCount"/>, <see cref="AttentionSpec.KeyHeadDim"/> and
/// <see cref="AttentionSpec.ValueHeadDim"/> fields carry the cache layout the GGUF declares
/// (<c>head_count_kv</c>, <c>key_length</c>, <c>value_length</c>): 1 × 576 / 512 for files converted since
/// llama.cpp's MLA support (2025-04), 128 × 192 / 128 for older DeepSeek files. Engines decide from it.
/// </remarks>
public static class GgufModelTranslator
{
    /// <summary>Architectures (GGUF spelling) this translator understands.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } =
    [
        "llama", "mistral3", "qwen2", "qwen3", "qwen3moe", "qwen3vl", "qwen3vlmoe", "gemma2", "gemma3", "glm4", "glm4moe",
        "deepseek2", "phi3", "starcoder", "cohere2", "gpt-oss", "bailingmoe2", "bitnet-25", "llama4", "qwen3next",
        // transformer families whose GGUF keys and cache follow the llama layout (llama-arch.cpp LLM_KV_*):
        // standard K/V per layer from head_count_kv × key_length / value_length
        "gemma", "qwen2vl", "qwen2moe", "granite", "granitemoe", "smollm3", "ernie4_5", "ernie4_5-moe", "seed_oss", "apertus",
        "arcee", "exaone", "olmo2", "olmoe", "command-r", "minicpm", "stablelm", "internlm2", "dots1", "hunyuan-moe",
        "minimax-m2",
        // Qwen3.5 (dense and MoE): Qwen3-Next's layout — Gated DeltaNet layers with a gated full-attention layer every
        // full_attention_interval, the same ssm.* keys (llama-arch.cpp LLM_ARCH_QWEN35 / QWEN35MOE)
        "qwen35", "qwen35moe",
    ];

    /// <summary>The ggml type most tensors of a llama.cpp file type get ("Q4_K_M" → q4_K), null for types unknown to mainline.</summary>
    public static GgmlType? MainTypeOf(string fileType) => GgufFileTypes.MainType(fileType);

    /// <summary>Builds the model description of the GGUF whose metadata is <paramref name="metadata"/>.</summary>
    /// <exception cref="UnsupportedArchitectureException">general.architecture is not one of <see cref="SupportedArchitectures"/>.</exception>
    /// <exception cref="ModelDescriptionException">A required key is missing or contradictory.</exception>
    public static ModelDescription Translate(GgufMetadata metadata, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var arch = metadata.Architecture;
        if (!SupportedArchitectures.Contains(arch))
            throw new UnsupportedArchitectureException(arch, SupportedArchitectures);
        var k = new Keys(metadata, arch);
        int n = k.RequireInt("block_count");
        if (n <= 0 || n > 1 << 16)
            throw new ModelDescriptionException($"{arch}.block_count: {n} is out of range");
        int hidden = k.RequireInt("embedding_length");
        int vocab = Vocab(metadata, arch);

        var heads = k.PerLayer("attention.head_count", n) ?? throw k.Missing("attention.head_count");
        var kvHeads = k.PerLayer("attention.head_count_kv", n) ?? heads;
        var ffn = k.PerLayer("feed_forward_length", n);
        int firstHeads = (int)heads.First(h => h > 0);
        int keyLength = k.Int("attention.key_length") ?? hidden / firstHeads;
        int valueLength = k.Int("attention.value_length") ?? keyLength;
        // Llama 4 attends in 8192-token chunks on three of four layers; llama.cpp hard-codes n_swa = 8192 for it
        int window = k.Int("attention.sliding_window") ?? (arch == "llama4" ? 8192 : 0);
        bool[] swa = SlidingLayers(k, arch, n, window);
        int nextN = NextNLayers(k, arch);

        var shape = Family.Of(arch);
        var layers = new LayerSpec[n];
        for (int i = 0; i < n; i++)
        {
            AttentionSpec attention = arch == "deepseek2"
                ? MlaAttention(k, (int)heads[i], (int)kvHeads[i], keyLength, valueLength)
                : arch is "qwen3next" or "qwen35" or "qwen35moe" && IsRecurrentQwen3Next(k, i)
                    ? GatedDeltaNet(k)
                    : StandardAttention(shape, (int)heads[i], (int)kvHeads[i], keyLength, valueLength, swa[i] ? window : 0);
            layers[i] = new LayerSpec
            {
                Attention = attention,
                Mlp = Mlp(k, arch, shape, i, ffn),
                NormCount = shape.NormCount,
                NormBias = shape.Norm == NormKind.LayerNorm && shape.NormBias,
                IsNextN = i >= n - nextN,
            };
        }

        bool tied = Tied(metadata, shape, hidden, vocab, layers);
        if (arch == "glm4moe" && k.Int("expert_feed_forward_length") is null)
            CheckGlmMoeRelease(metadata, k, hidden, vocab, layers, tied);
        var format = FileFormat(metadata);
        return new ModelDescription(
            arch,
            hidden,
            vocab,
            layers,
            tiedEmbeddings: tied,
            maxContext: k.Int("context_length") ?? 0,
            dtype: ScalarType.F16,
            normKind: shape.Norm,
            learnedPositions: shape.LearnedPositions ? k.Int("context_length") ?? 0 : 0,
            checkpointFormat: format,
            name: name ?? metadata.GetString("general.name") ?? arch,
            source: "gguf");
    }

    private static int Vocab(GgufMetadata m, string arch)
    {
        // llama.cpp takes n_vocab from the tokenizer (tokenizer.ggml.tokens); "<arch>.vocab_size" and the
        // validation format's "tokenizer.vocab_size" carry the same number when the token list is not at hand.
        if (m.GetLong($"{arch}.vocab_size") is { } v)
            return (int)v;
        if (m.GetLong("tokenizer.vocab_size") is { } t)
            return (int)t;
        if (m.GetArray("tokenizer.ggml.tokens") is { } tokens)
            return tokens.Count;
        throw new ModelDescriptionException("tokenizer.ggml.tokens: missing (the vocabulary size is unknown)");
    }

    private static AttentionSpec StandardAttention(Family f, int heads, int kvHeads, int keyLength, int valueLength, int window)
    {
        if (heads == 0)
            return AttentionSpec.NoAttention;
        return new AttentionSpec
        {
            Kind = window > 0 ? AttentionKind.SlidingWindow : AttentionKind.Full,
            HeadCount = heads,
            KvHeadCount = kvHeads == 0 ? heads : kvHeads,
            KeyHeadDim = keyLength,
            ValueHeadDim = valueLength,
            SlidingWindow = window,
            QkvBias = f.QkvBias,
            OutputBias = f.OutputBias,
            QkNorm = f.QkNorm,
            FusedQkv = f.FusedQkv,
            Sinks = f.Sinks,
            GatedQuery = f.GatedQuery,
        };
    }

    private static AttentionSpec MlaAttention(Keys k, int heads, int kvHeads, int keyLength, int valueLength)
    {
        int kvLora = k.RequireInt("attention.kv_lora_rank");
        int rope = k.Int("rope.dimension_count") ?? 64;   // DeepSeek-V2/V3 qk_rope_head_dim
        // key_length_mla / value_length_mla exist in files converted for MLA (llama.cpp PR 12801); older files
        // store the per-head MHA shapes in key_length / value_length.
        int keyMla = k.Int("attention.key_length_mla") ?? keyLength;
        int valueMla = k.Int("attention.value_length_mla") ?? valueLength;
        if (keyMla <= rope)
            throw new ModelDescriptionException($"deepseek2.attention.key_length_mla: {keyMla} must exceed rope.dimension_count {rope}");
        return new AttentionSpec
        {
            Kind = AttentionKind.Mla,
            HeadCount = heads,
            KvHeadCount = kvHeads == 0 ? heads : kvHeads,
            KeyHeadDim = keyLength,
            ValueHeadDim = valueLength,
            Mla = new MlaSpec
            {
                QLoraRank = k.Int("attention.q_lora_rank") ?? 0,
                KvLoraRank = kvLora,
                QkNopHeadDim = keyMla - rope,
                QkRopeHeadDim = rope,
                VHeadDim = valueMla,
            },
        };
    }

    /// <summary>Qwen3-Next: gated-delta-net layers except every full_attention_interval-th (default 4; llama.cpp
    /// qwen3next <c>recurrent_layer_arr[i] = (i + 1) % 4 != 0</c>).</summary>
    private static bool IsRecurrentQwen3Next(Keys k, int layer)
    {
        int interval = Math.Max(1, k.Int("full_attention_interval") ?? 4);
        return (layer + 1) % interval != 0;
    }

    /// <summary>
    /// A gated-delta-net layer from the ssm.* keys: conv_kernel, state_size (key head dim), group_count (key
    /// heads), time_step_rank (value heads), inner_size (value heads × value head dim).
    /// </summary>
    private static AttentionSpec GatedDeltaNet(Keys k)
    {
        int kHeads = k.RequireInt("ssm.group_count"), vHeads = k.RequireInt("ssm.time_step_rank");
        int kDim = k.RequireInt("ssm.state_size"), inner = k.RequireInt("ssm.inner_size");
        if (kHeads <= 0 || vHeads <= 0 || inner % vHeads != 0)
            throw new ModelDescriptionException($"qwen3next.ssm.inner_size {inner} is not a multiple of ssm.time_step_rank {vHeads}");
        return new AttentionSpec
        {
            Kind = AttentionKind.Recurrent,
            Recurrent = new RecurrentSpec
            {
                Kind = RecurrentKind.GatedDeltaNet,
                InnerSize = inner,
                StateSize = kDim,
                ConvKernel = k.RequireInt("ssm.conv_kernel"),
                HeadCount = vHeads,
                KeyHeadCount = kHeads,
                KeyHeadDim = kDim,
                ValueHeadDim = inner / vHeads,
                GroupCount = kHeads,
            },
        };
    }

    /// <summary>
    /// The MoE layout of the released GLM-4.5 family, for abbreviated metadata that names a glm4moe file by its
    /// attention keys only: GLM-4.5/4.6/4.7 (hidden 5120) have first_k_dense_replace 3, moe_intermediate_size 1536 and
    /// one shared expert; GLM-4.5-Air (hidden 4096) 1, 1408 and one (zai-org/GLM-4.5 and GLM-4.5-Air config.json,
    /// written by convert_hf_to_gguf.py as leading_dense_block_count, expert_feed_forward_length, expert_shared_count).
    /// <see cref="Translate"/> checks the result against the printed parameter count when the metadata has one.
    /// </summary>
    private static (int Lead, int ExpertFfn, int Shared)? GlmMoeRelease(Keys k, string arch) =>
        arch != "glm4moe" ? null : k.Int("embedding_length") switch
        {
            5120 => (3, 1536, 1),
            4096 => (1, 1408, 1),
            _ => null,
        };

    private static MlpSpec Mlp(Keys k, string arch, Family f, int layer, long[]? ffn)
    {
        int experts = k.Int("expert_count") ?? 0;
        var glm = GlmMoeRelease(k, arch);
        int lead = k.Int("leading_dense_block_count") ?? glm?.Lead ?? 0;
        // Llama 4 Maverick interleaves MoE and dense layers (interleave_moe_layer_step 2: every second layer)
        int step = Math.Max(1, k.Int("interleave_moe_layer_step") ?? 1);
        if (experts > 0 && layer >= lead && (layer + 1) % step == 0)
        {
            int used = k.RequireInt("expert_used_count");
            // Mixtral files (llama arch) carry no expert_feed_forward_length: experts use feed_forward_length.
            int expertFfn = k.Int("expert_feed_forward_length") ?? glm?.ExpertFfn
                ?? (arch == "llama" && ffn is not null ? (int)ffn[layer] : throw k.Missing("expert_feed_forward_length"));
            // Llama 4, Qwen3-Next and Qwen2-MoE always have one shared expert (llama.cpp creates ffn_*_shexp unconditionally)
            int shared = k.Int("expert_shared_count") ?? glm?.Shared ?? (arch is "llama4" or "qwen3next" or "qwen35moe" or "qwen2moe" ? 1 : 0);
            int sharedFfn = k.Int("expert_shared_feed_forward_length") ?? expertFfn;
            return new MlpSpec
            {
                Kind = MlpKind.MoE,
                ExpertCount = experts,
                ActiveExpertCount = used,
                ExpertFfnSize = expertFfn,
                SharedExpertCount = shared,
                SharedExpertFfnSize = shared > 0 ? sharedFfn : 0,
                Bias = f.ExpertBias,
                RouterBias = f.RouterBias,
                // expert_gating_func 2 = sigmoid (DeepSeek-V3, GLM-4.5, Ling-2): those carry exp_probs_b
                RouterScoreCorrectionBias = (k.Int("expert_gating_func") ?? (f.ScoreBias ? 2 : 0)) == 2,
                SharedExpertGate = arch is "qwen3next" or "qwen35moe" or "qwen2moe",
            };
        }

        if (ffn is null)
            throw k.Missing("feed_forward_length");
        return ffn[layer] == 0
            ? MlpSpec.NoMlp
            : new MlpSpec { Kind = MlpKind.Dense, FfnSize = (int)ffn[layer], Gated = f.GatedFfn, Bias = f.FfnBias, FusedGateUp = f.FusedGateUp };
    }

    /// <summary>
    /// Which layers use the sliding window: a per-layer bool array <c>attention.sliding_window_pattern</c>
    /// (llama.cpp <c>get_key_or_arr</c>, true = SWA), an integer period, else the period llama.cpp hard-codes
    /// (llama-model.cpp <c>set_swa_pattern</c>: gemma2 2, gemma3 6, cohere2 4, gpt-oss 2). With period p,
    /// layer i slides iff i mod p &lt; p − 1 (the last layer of every period is global).
    /// </summary>
    private static bool[] SlidingLayers(Keys k, string arch, int n, int window)
    {
        var result = new bool[n];
        if (window <= 0)
            return result;
        if (k.Array("attention.sliding_window_pattern") is { } array)
        {
            if (array.Count != n)
                throw new ModelDescriptionException($"{arch}.attention.sliding_window_pattern: {array.Count} values for {n} layers");
            for (int i = 0; i < n; i++)
                result[i] = array.GetLong(i) != 0;
            return result;
        }

        int period = k.Int("attention.sliding_window_pattern") ?? arch switch
        {
            "gemma2" or "gpt-oss" => 2,
            "llama4" => 4,
            "gemma3" => 6,
            "cohere2" => 4,
            _ => 0,
        };
        for (int i = 0; i < n; i++)
            result[i] = period > 0 && i % period < period - 1;
        return result;
    }

    /// <summary>
    /// The GLM-4.5 release layout stands in for missing keys only when the printed parameter count agrees (llama.cpp
    /// prints it to two decimals of a billion, so within 1 %); without a count, or for an unknown release, the
    /// missing key is reported.
    /// </summary>
    private static void CheckGlmMoeRelease(GgufMetadata m, Keys k, int hidden, int vocab, LayerSpec[] layers, bool tied)
    {
        if (GlmMoeRelease(k, "glm4moe") is null || m.GetLong("model_params") is not { } published || published <= 0)
            throw k.Missing("expert_feed_forward_length");
        long count = TensorInventory.ParameterCount(new ModelDescription("glm4moe", hidden, vocab, layers, tiedEmbeddings: tied));
        if (Math.Abs(count - published) > published / 100)
            throw new ModelDescriptionException(
                $"glm4moe.expert_feed_forward_length: missing from GGUF metadata, and the GLM-4.5 release layout gives {count:N0} parameters where the file has {published:N0}");
    }

    private static int NextNLayers(Keys k, string arch)
    {
        // GLM-4.5/4.6 ship one NextN (MTP) block counted in block_count (llama.cpp glm4moe: nextn_predict_layers;
        // every released GLM-4.5/4.6/4.5-Air checkpoint has num_nextn_predict_layers = 1, which is the fallback
        // when the key is absent from abbreviated metadata).
        int fallback = arch == "glm4moe" ? 1 : 0;
        int v = k.Int("nextn_predict_layers") ?? fallback;
        return v < 0 ? throw new ModelDescriptionException($"{arch}.nextn_predict_layers: {v} is negative") : v;
    }

    /// <summary>
    /// GGUF has no "tied" flag: a file without output.weight reuses token_embd. From metadata alone, the family's
    /// convention decides, unless the published parameter count ("model_params") says otherwise.
    /// </summary>
    private static bool Tied(GgufMetadata m, Family f, int hidden, int vocab, LayerSpec[] layers)
    {
        if (m.GetLong("model_params") is not { } published || published <= 0)
            return f.Tied;
        var untied = new ModelDescription("probe", hidden, vocab, layers, tiedEmbeddings: false);
        long withHead = TensorInventory.ParameterCount(untied);
        long head = (long)hidden * vocab;
        return Math.Abs(withHead - head - published) < Math.Abs(withHead - published);
    }

    private static WeightFormat? FileFormat(GgufMetadata m)
    {
        // general.file_type is llama_ftype; the validation format may carry only its printed name.
        string? ftype = GgufFileTypes.NameOf(m);
        if (ftype is null)
            return null;
        var main = GgufFileTypes.MainType(ftype);
        return new WeightFormat
        {
            Kind = WeightFormatKind.Ggml,
            Name = ftype,
            DenseType = ScalarType.F32,
            GgmlType = main ?? GgmlType.F16,
            Bits = main is { } t ? (int)Math.Round(GgmlTypes.Get(t).BitsPerWeight) : 16,
        };
    }

    /// <summary>The per-architecture tensor layout conventions of llama.cpp's <c>load_tensors</c>.</summary>
    private sealed record Family
    {
        public NormKind Norm { get; init; } = NormKind.RmsNorm;
        public bool NormBias { get; init; }
        public int NormCount { get; init; } = 2;
        public bool QkvBias { get; init; }
        public bool OutputBias { get; init; }
        public QkNormKind QkNorm { get; init; }
        public bool FusedQkv { get; init; }
        public bool FusedGateUp { get; init; }
        public bool Sinks { get; init; }

        /// <summary>attn_q emits the query and an equally wide sigmoid output gate (Qwen3-Next, Qwen3.5).</summary>
        public bool GatedQuery { get; init; }
        public bool GatedFfn { get; init; } = true;
        public bool FfnBias { get; init; }
        public bool ExpertBias { get; init; }
        public bool RouterBias { get; init; }
        public bool ScoreBias { get; init; }
        public bool Tied { get; init; }
        public bool LearnedPositions { get; init; }

        public static Family Of(string arch) => arch switch
        {
            "qwen2" => new() { QkvBias = true },
            "qwen3" or "qwen3moe" or "qwen3vl" or "qwen3vlmoe" => new() { QkNorm = QkNormKind.PerHead },
            // Gemma-2/3 and GLM-4: sandwich norms (attn_post_norm, ffn_post_norm); Gemma ties the output head
            "gemma2" => new() { NormCount = 4, Tied = true },
            "gemma3" => new() { NormCount = 4, Tied = true, QkNorm = QkNormKind.PerHead },
            "glm4" => new() { NormCount = 4, QkvBias = true, FusedGateUp = true },
            "glm4moe" => new() { QkvBias = true, ScoreBias = true },
            "deepseek2" => new() { ScoreBias = true },
            "phi3" => new() { FusedQkv = true, FusedGateUp = true },
            // GPT-BigCode: LayerNorm with bias, fused QKV with bias, GELU MLP with bias, learned positions
            "starcoder" => new() { Norm = NormKind.LayerNorm, NormBias = true, FusedQkv = true, QkvBias = true, OutputBias = true, GatedFfn = false, FfnBias = true, LearnedPositions = true },
            // Command-R 2: one LayerNorm (no bias) feeding attention and MLP in parallel; tied head
            "cohere2" => new() { Norm = NormKind.LayerNorm, NormCount = 1, Tied = true },
            "gpt-oss" => new() { QkvBias = true, OutputBias = true, Sinks = true, ExpertBias = true, RouterBias = true },
            "bailingmoe2" => new() { FusedQkv = true, QkNorm = QkNormKind.PerHead, ScoreBias = true },
            // BitNet b1.58 2B4T: extra attn/ffn sub-norms; tied embeddings
            "bitnet-25" => new() { NormCount = 3, Tied = true },
            "qwen3next" or "qwen35" or "qwen35moe" => new() { QkNorm = QkNormKind.PerHead, GatedQuery = true },
            "gemma" => new() { Tied = true },
            "qwen2vl" or "qwen2moe" => new() { QkvBias = true },
            "seed_oss" => new() { QkvBias = true },
            "smollm3" => new() { Tied = true },
            // OLMo-2: Q/K norms over the full projection width, norms after attention and FFN
            "olmo2" => new() { QkNorm = QkNormKind.FullWidth },
            "olmoe" => new() { QkNorm = QkNormKind.FullWidth },
            // Command-R: one LayerNorm feeding attention and MLP in parallel, tied head
            "command-r" => new() { Norm = NormKind.LayerNorm, NormCount = 1, Tied = true },
            "stablelm" => new() { Norm = NormKind.LayerNorm, NormBias = true },
            "dots1" => new() { QkNorm = QkNormKind.PerHead, ScoreBias = true },
            // MiniMax-M2: Q/K norms over all heads' channels (attn_q_norm of n_head × head_dim), sigmoid routing with
            // exp_probs_b, no shared expert (llama-model.cpp LLM_ARCH_MINIMAX_M2)
            "minimax-m2" => new() { QkNorm = QkNormKind.FullWidth, ScoreBias = true },
            _ => new(),
        };
    }

    /// <summary>Reads "&lt;arch&gt;.key" values, naming the full key in errors.</summary>
    private sealed class Keys(GgufMetadata m, string arch)
    {
        public int? Int(string key)
        {
            var full = $"{arch}.{key}";
            if (m.Get(full) is GgufArray a)
            {
                // a per-layer array where a scalar is expected: use its first non-zero value
                for (int i = 0; i < a.Count; i++)
                    if (a.GetLong(i) != 0)
                        return checked((int)a.GetLong(i));
                return 0;
            }

            return m.GetLong(full) is { } v ? checked((int)v) : null;
        }

        public int RequireInt(string key) => Int(key) ?? throw Missing(key);

        public long[]? PerLayer(string key, int n) => m.GetPerLayer($"{arch}.{key}", n);

        public GgufArray? Array(string key) => m.Get($"{arch}.{key}") as GgufArray;

        public ModelDescriptionException Missing(string key) => new($"{arch}.{key}: missing from GGUF metadata");
    }
}
