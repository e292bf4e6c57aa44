using System.Collections.Immutable;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Reports;

namespace VramFit.Engines.Transformers;

/// <summary>
/// Hugging Face transformers (PyTorch) inference: <c>from_pretrained(..., device_map="auto")</c> then
/// <c>generate()</c>. Settings use the Python keyword names (<c>attn_implementation</c>, <c>torch_dtype</c>,
/// <c>cache_implementation</c> …); the arithmetic lives in <see cref="TransformersMemory"/>.
/// </summary>
public sealed class TransformersEngine : IEngineModel
{
    private const string Origin = "transformers (PyTorch) modeling_*.py, cache_utils.py; accelerate device_map=\"auto\"";

    public string Id => "transformers";

    public IReadOnlyCollection<string> SettingNames => TransformersSettings.Names;

    public MemoryReport Estimate(EstimateRequest request)
    {
        var model = request.Model;
        var dtype = ResolveDtype(request);
        var format = request.Workload.WeightFormat ?? model.CheckpointFormat ?? WeightFormat.DenseOf(dtype);
        if (format.Kind == WeightFormatKind.Dense)
            format = WeightFormat.DenseOf(dtype);
        var computeType = format.Kind == WeightFormatKind.Dense ? format.DenseType : dtype == ScalarType.F32 ? ScalarType.F32 : format.DenseType;
        if (computeType is not (ScalarType.F32 or ScalarType.F16 or ScalarType.BF16))
            computeType = ScalarType.BF16;
        var s = TransformersSettings.Resolve(request, computeType);
        var profile = ModelProfile.Create(model, format);

        Span<int> starts = stackalloc int[s.Gpus + 1];
        TransformersMemory.Place(profile, s.Gpus, starts);
        var devices = ImmutableArray.CreateBuilder<DeviceMemory>(s.Gpus);
        for (int d = 0; d < s.Gpus; d++)
        {
            var m = TransformersMemory.Device(profile, s, starts[d], starts[d + 1], d == 0, d == s.Gpus - 1);
            devices.Add(new DeviceMemory
            {
                Device = $"GPU{d}",
                CapacityBytes = request.Deployment.UsableBytesPerGpu,
                Items = Items(profile, s, m, $"GPU{d}", starts[d], starts[d + 1], format),
            });
        }

        var notes = ImmutableArray.CreateBuilder<string>();
        if (request.Workload.ContextTokens is null && !request.Settings.Has("max_length"))
            notes.Add($"context not given: assumed {TransformersSettings.DefaultContext} tokens per sequence");
        if (s.Attention == TransformersAttention.Eager)
            notes.Add("eager attention materializes batch × heads × prompt² scores; sdpa or flash_attention_2 avoid them");
        if (s.Gpus > 1)
            notes.Add($"device_map=\"auto\" runs the {s.Gpus} GPUs one after another (pipeline without overlap): memory adds up, speed does not");
        if (model.Layers.Any(l => l.IsNextN))
            notes.Add("multi-token-prediction blocks are loaded but not used by generate()");

        return new MemoryReport
        {
            Engine = Id,
            Model = model.Name,
            Parameters = profile.Parameters,
            Devices = devices.MoveToImmutable(),
            Notes = notes.ToImmutable(),
            Settings =
            [
                new("batch_size", s.Batch),
                new("max_length", s.ContextTokens, "tokens"),
                new("prompt_tokens", s.PromptTokens, "tokens"),
                new("attn_implementation = " + s.Attention.ToString().ToLowerInvariant(), 0),
                new("torch_dtype = " + computeType.DisplayName(), 0),
                new("weights = " + format.Name, 0),
                new("kv_bits", s.KvBits, "bits"),
                new("num_gpus", s.Gpus),
            ],
            LaunchCommand = LaunchCommand(model, s, computeType, format),
        };
    }

    private static ScalarType ResolveDtype(EstimateRequest request)
    {
        var text = request.Settings.GetString("torch_dtype");
        if (text is null || text == "auto")
            return request.Model.Dtype;
        return ScalarTypes.TryParse(text, out var t) && t is ScalarType.F32 or ScalarType.F16 or ScalarType.BF16
            ? t
            : throw new Errors.InvalidSettingException("torch_dtype", $"'{text}' is not float32, float16 or bfloat16");
    }

    private static ImmutableArray<MemoryItem> Items(
        ModelProfile profile, in TransformersSettings s, in TransformersDeviceMemory m, string device, int first, int end, WeightFormat format)
    {
        var model = profile.Model;
        var items = ImmutableArray.CreateBuilder<MemoryItem>();
        items.Add(new MemoryItem
        {
            Name = "weights",
            Category = MemoryCategory.Weights,
            Bytes = m.Weights,
            Device = device,
            Formula = "Σ tensor bytes of the blocks on this device (+ embedding on the first, head on the last) in the stored format",
            Inputs = [new("blocks", end - first), new("first block", first), new("format = " + format.Name, format.BitsPerWeight(), "bits/weight")],
            Origin = "accelerate device_map=\"auto\" (balanced contiguous split); exact packed layouts in Numerics/WeightFormat",
        });
        if (m.KvCache > 0)
        {
            items.Add(new MemoryItem
            {
                Name = s.StaticCache ? "KV cache (StaticCache)" : s.KvBits < 16 ? "KV cache (QuantizedCache)" : "KV cache (DynamicCache)",
                Category = MemoryCategory.KvCache,
                Bytes = m.KvCache,
                Device = device,
                Formula = "batch × Σ layers (kv_heads × (d_k + d_v)) × cached tokens × bytes (sliding layers: min(context, window))",
                Inputs = [new("batch", s.Batch), new("context", s.ContextTokens, "tokens"), new("cache layers", CountCacheLayers(model, first, end)),
                    new("kv bits", s.KvBits, "bits")],
                Origin = "transformers cache_utils.py DynamicCache / SlidingWindowLayer / QuantizedCache (residual 128, group 64)",
            });
        }

        if (m.RecurrentState > 0)
        {
            items.Add(new MemoryItem
            {
                Name = "recurrent state",
                Category = MemoryCategory.RecurrentState,
                Bytes = m.RecurrentState,
                Device = device,
                Formula = "batch × Σ recurrent layers (conv_kernel × conv channels + SSM state) × bytes",
                Inputs = [new("batch", s.Batch)],
                Origin = "transformers MambaCache / HybridMambaAttentionDynamicCache",
            });
        }

        long tokens = (long)s.Batch * s.PromptTokens;
        var activationChildren = ImmutableArray.CreateBuilder<MemoryItem>();
        activationChildren.Add(Child("hidden states + residual", m.ResidualStream, device,
            s.Attention == TransformersAttention.Eager ? "2 × tokens × hidden × bytes + batch × prompt² × bytes (4-D causal mask)" : "2 × tokens × hidden × bytes",
            [new("tokens", tokens), new("hidden", model.HiddenSize)]));
        if (m.LayerPeak >= m.Logits)
        {
            activationChildren.Add(Child(m.LayerPeakIsAttention ? "attention (largest layer)" : "MLP intermediates (largest layer)", m.LayerPeak, device,
                m.LayerPeakIsAttention
                    ? (s.Attention == TransformersAttention.Eager ? "q, k, v, output + batch × heads × prompt² × (2 + 4 + 2) B scores" : "q, k, v and attention output projections")
                    : "tokens × ffn × 3 (gate, up, product) × bytes; MoE: router f32 + expected expert load",
                [new("tokens", tokens), new("attention = " + s.Attention.ToString().ToLowerInvariant(), 0)]));
        }
        else
        {
            activationChildren.Add(Child("logits", m.Logits, device,
                s.Logits == TransformersLogits.LastToken ? "batch × vocab × (bytes + 4) (generate keeps the last position, upcast to f32)" : "tokens × vocab × (bytes + 4)",
                [new("rows", s.Logits == TransformersLogits.LastToken ? s.Batch : tokens), new("vocab", model.VocabSize)]));
        }

        if (m.CacheGrowthCopy > 0)
            activationChildren.Add(Child("DynamicCache growth copy", m.CacheGrowthCopy, device, "torch.cat allocates one layer's grown K (or V) before freeing the old", []));
        if (m.DequantScratch > 0)
            activationChildren.Add(Child("bitsandbytes dequantized weight", m.DequantScratch, device, "largest quantized matrix × compute bytes (dequantize_4bit before the matmul in prefill)", []));
        items.Add(new MemoryItem
        {
            Name = "activations (prefill peak)",
            Category = MemoryCategory.Activations,
            Bytes = m.Activations,
            Device = device,
            Formula = "residual stream + max(largest layer transient, logits) + cache growth copy",
            Inputs = [new("batch", s.Batch), new("prompt", s.PromptTokens, "tokens"), new("activation bytes", s.ActivationBytes, "B")],
            Children = activationChildren.ToImmutable(),
            Origin = Origin,
        });
        items.Add(new MemoryItem
        {
            Name = "CUDA context",
            Category = MemoryCategory.Overhead,
            Bytes = m.CudaContext,
            Device = device,
            Formula = "constant per process and device",
            Inputs = [new("context", m.CudaContext / (double)(1 << 20), "MiB")],
            Origin = "PyTorch with CUDA ≥ 11.7 lazy loading: ~400 MB (pytorch/pytorch issue 109888)",
        });
        return items.ToImmutable();
    }

    private static MemoryItem Child(string name, long bytes, string device, string formula, ImmutableArray<FormulaInput> inputs) => new()
    {
        Name = name,
        Category = MemoryCategory.Activations,
        Bytes = bytes,
        Device = device,
        Formula = formula,
        Inputs = inputs,
    };

    private static int CountCacheLayers(ModelDescription model, int first, int end)
    {
        int n = 0;
        for (int i = first; i < end; i++)
            if (TransformersMemory.CachedElementsPerToken(model.Layers[i]) > 0 && !model.Layers[i].SharesKvCache && !model.Layers[i].IsNextN)
                n++;
        return n;
    }

    private static string LaunchCommand(ModelDescription model, in TransformersSettings s, ScalarType dtype, WeightFormat format)
    {
        string attn = s.Attention switch
        {
            TransformersAttention.Eager => "eager",
            TransformersAttention.Flash => "flash_attention_2",
            _ => "sdpa",
        };
        string quant = format.Kind switch
        {
            WeightFormatKind.BnbNf4 or WeightFormatKind.BnbFp4 => $", quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"{(format.Kind == WeightFormatKind.BnbNf4 ? "nf4" : "fp4")}\", bnb_4bit_use_double_quant={(format.DoubleQuant ? "True" : "False")})",
            WeightFormatKind.BnbInt8 => ", quantization_config=BitsAndBytesConfig(load_in_8bit=True)",
            _ => "",
        };
        string cache = s.KvBits < 16 ? $", cache_implementation=\"quantized\", cache_config={{\"nbits\": {s.KvBits}}}" : s.StaticCache ? ", cache_implementation=\"static\"" : "";
        return $"AutoModelForCausalLM.from_pretrained(\"{model.Name}\", torch_dtype=torch.{(dtype == ScalarType.BF16 ? "bfloat16" : dtype == ScalarType.F16 ? "float16" : "float32")}, device_map=\"auto\", attn_implementation=\"{attn}\"{quant})"
            + $".generate(**inputs, max_length={s.ContextTokens}{cache})";
    }
}
