using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Engines.LlamaCpp;

/// <summary>
/// The tensors llama.cpp loads for a model: exact from <see cref="ModelDescription.Checkpoint"/> when the GGUF
/// header was read, else estimated from the tensor inventory with llama-quant.cpp's per-tensor type choice
/// (<see cref="LlamaCppQuantMix"/>), optionally calibrated to the file's size.
/// </summary>
public static class LlamaCppTensors
{
    /// <summary>
    /// Estimates the stored tensors of a GGUF of <paramref name="model"/> whose file type is the model's
    /// <see cref="ModelDescription.CheckpointFormat"/> name ("Q4_K_M"). With <paramref name="fileSizeBytes"/>, the
    /// block-quantized tensors of the repeating layers are scaled so that the tensors sum to the file size (the
    /// mix of a "UD" or imatrix-tuned file differs from the stock recipe, the file size does not lie); when the
    /// file type is unknown to mainline (ik_llama.cpp's IQ4_K, IQ2_K_R4 …) every quantized tensor gets the file's
    /// average bits per weight.
    /// </summary>
    public static Checkpoint Estimate(ModelDescription model, long? fileSizeBytes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var inventory = TensorInventory.Build(model);
        string ftype = FileTypeOf(model);
        var main = Sources.Gguf.GgufFileTypes.MainType(ftype);
        int layers = model.RepeatingLayerCount;
        var types = new GgmlType?[inventory.Length];
        var bytes = new long[inventory.Length];
        long fixedBytes = 0, scalable = 0;
        for (int i = 0; i < inventory.Length; i++)
        {
            var t = inventory[i];
            if (main is { } m)
            {
                var type = LlamaCppQuantMix.TypeOf(t, ftype, m, layers, model.TiedEmbeddings);
                types[i] = type;
                bytes[i] = LlamaCppQuantMix.Bytes(t, type);
                bool scales = t.Layer >= 0 && GgmlTypes.Get(type).BlockSize > 1;
                if (scales) scalable += bytes[i]; else fixedBytes += bytes[i];
            }
            else
            {
                bool f32 = (t.Rows == 1 && t.Experts == 1) || LlamaCppQuantMix.TypeOf(t, "Q8_0", GgmlType.Q8_0, layers) == GgmlType.F32;
                types[i] = f32 ? GgmlType.F32 : null;
                bytes[i] = f32 ? t.Elements * 4 : t.Elements;        // unknown types: placeholder 1 B/weight, scaled below
                if (f32) fixedBytes += bytes[i]; else scalable += bytes[i];
            }
        }

        if (main is null && fileSizeBytes is null)
            throw new Errors.ModelDescriptionException($"file type '{ftype}' is not a mainline llama.cpp type; the file size is needed to estimate its tensors");
        double scale = fileSizeBytes is { } size && scalable > 0 && size > fixedBytes
            ? (double)(size - fixedBytes) / scalable
            : 1.0;
        var tensors = new List<CheckpointTensor>(inventory.Length);
        for (int i = 0; i < inventory.Length; i++)
        {
            var t = inventory[i];
            bool scaled = types[i] is not { } ty ? true : t.Layer >= 0 && GgmlTypes.Get(ty).BlockSize > 1;
            long b = scaled ? (long)Math.Round(bytes[i] * scale) : bytes[i];
            tensors.Add(new CheckpointTensor(t.Name, types[i]?.ToString().ToLowerInvariant() ?? ftype.ToLowerInvariant(), t.Layer, t.Elements, b, t.Elements));
        }

        // file order as convert_hf_to_gguf.py writes it (HF shards hold embed_tokens first and norm, lm_head last):
        // the input layer, the blocks, then the output layer; the mmap'd host buffer spans this order
        var ordered = tensors.Where(t => t.Layer >= 0 || !IsOutputLayer(t.Name))
            .Concat(tensors.Where(t => t.Layer < 0 && IsOutputLayer(t.Name)));
        return new Checkpoint(CheckpointFormat.Gguf, ordered, fileSizeBytes is null ? $"{ftype} (estimated mix)" : $"{ftype} (estimated mix, calibrated to file size)");
    }

    private static bool IsOutputLayer(string name) => name.StartsWith("output", StringComparison.Ordinal);

    /// <summary>The model's tensors as llama.cpp would load them (exact when the checkpoint is known).</summary>
    /// <remarks>Estimated tensor lists are cached per description and format: the planner and auto-fit estimate
    /// the same model many times with other settings, and choosing every tensor's type is the costly part.</remarks>
    /// <summary>
    /// The tensors laid out over <paramref name="files"/> split GGUF files as gguf-split writes them: in tensor order,
    /// a new file once the current one reaches its share of the total (gguf-split --split-max-size cuts at a fixed
    /// size, which the count alone does not give; equal shares stand for it). A checkpoint read from real split files
    /// keeps its own parts.
    /// </summary>
    internal static Checkpoint SplitIntoFiles(Checkpoint checkpoint, int files) =>
        files <= 1 || checkpoint.Tensors.Any(t => t.Part != 0)
            ? checkpoint
            // cached per checkpoint and count, so the tensor table built from the split is reused across estimates
            : Splits.GetValue(checkpoint, _ => new()).GetOrAdd(files, static (n, c) => Split(c, n), checkpoint);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Checkpoint,
        System.Collections.Concurrent.ConcurrentDictionary<int, Checkpoint>> Splits = new();

    private static Checkpoint Split(Checkpoint checkpoint, int files)
    {
        long share = (checkpoint.TotalBytes + files - 1) / files, filled = 0;
        int part = 0;
        var split = new List<CheckpointTensor>(checkpoint.Tensors.Length);
        foreach (var t in checkpoint.Tensors)
        {
            if (filled > 0 && filled + t.Bytes > share && part < files - 1)
                (part, filled) = (part + 1, 0);
            split.Add(t with { Part = part, Offset = -1 });
            filled += t.Bytes;
        }

        return new Checkpoint(checkpoint.Format, split, checkpoint.FileTypeName);
    }

    internal static Checkpoint For(ModelDescription model, WeightFormat? whatIf)
    {
        whatIf = AsGguf(whatIf, model);
        if (whatIf is not { Kind: WeightFormatKind.Ggml } && model.Checkpoint is { } real)
            return real;
        var key = whatIf is { Kind: WeightFormatKind.Ggml } w ? w : AsPublished;
        return Cache.GetValue(model, _ => new()).GetOrAdd(key, static (k, m) => ReferenceEquals(k, AsPublished)
            ? Estimate(m)
            : Estimate(m.WithCheckpoint(null).WithFormat(k with { Name = k.Name.ToUpperInvariant() })), model);
    }

    /// <summary>
    /// The GGUF file type a what-if format means for llama.cpp: ggml types as they are; MXFP4 as the MXFP4_MOE
    /// file type (llama-quant, gpt-oss); 16/32-bit dense as that dtype (null: the model as converted). Formats
    /// llama.cpp cannot load (FP8, INT8, GPTQ, AWQ, bitsandbytes, NVFP4) are refused with the types it can.
    /// </summary>
    private static WeightFormat? AsGguf(WeightFormat? whatIf, ModelDescription model) => whatIf?.Kind switch
    {
        null or WeightFormatKind.Ggml => whatIf,
        WeightFormatKind.Mxfp4 => whatIf with { Kind = WeightFormatKind.Ggml, GgmlType = GgmlType.MXFP4, Name = "MXFP4_MOE", ExpertsOnly = false },
        WeightFormatKind.Dense => whatIf.DenseType == model.Dtype ? null
            : whatIf with { Kind = WeightFormatKind.Ggml, GgmlType = whatIf.DenseType switch { ScalarType.F32 => GgmlType.F32, ScalarType.F16 => GgmlType.F16, _ => GgmlType.BF16 }, Name = whatIf.DenseType.DisplayName().ToUpperInvariant() },
        _ => throw new Errors.InvalidSettingException("quant",
            $"llama.cpp loads GGUF types, not {whatIf!.Name}: use q8_0, q6_k, q5_k, q4_k, iq4_xs, q3_k, q2_k, mxfp4 or f16/bf16 (convert_hf_to_gguf.py dequantizes FP8/GPTQ/AWQ checkpoints)"),
    };

    /// <summary>Cache key for "the model's own format" (dictionary keys cannot be null).</summary>
    private static readonly WeightFormat AsPublished = new() { Kind = WeightFormatKind.Dense, Name = "(as published)" };

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelDescription,
        System.Collections.Concurrent.ConcurrentDictionary<WeightFormat, Checkpoint>> Cache = new();

    /// <summary>The llama.cpp file type of a model: its GGUF ftype, else the dense dtype it would be converted to.</summary>
    private static string FileTypeOf(ModelDescription model) => model.CheckpointFormat switch
    {
        { Kind: WeightFormatKind.Ggml } f => f.Name,
        // gpt-oss ships MXFP4 experts; convert_hf_to_gguf.py keeps them as MXFP4 (file type MXFP4_MOE)
        { Kind: WeightFormatKind.Mxfp4 } => "MXFP4_MOE",
        // convert_hf_to_gguf.py keeps bf16 checkpoints as BF16 with --outtype auto, anything else as F16
        _ => model.Dtype == ScalarType.BF16 ? "BF16" : model.Dtype == ScalarType.F32 ? "F32" : "F16",
    };
}
