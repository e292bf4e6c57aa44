using System.Text;
using VramFit.Models;
using VramFit.Sources.Gguf;

namespace VramFit.Tests.Engines.LlamaCpp.Differential;

/// <summary>
/// Writes a GGUF v3 file that real llama.cpp loads: the metadata of a fixture, a generated SPM vocabulary and every
/// tensor of the model's inventory (f16 matrices, f32 vectors). Tensor data is sparse (SetLength): no disk cost,
/// and llama.cpp never reads it while sizing buffers.
/// </summary>
internal static class GgufTestWriter
{
    private const int Alignment = 32;

    /// <summary>Writes the file and returns the exact stored tensors (what the GGUF reader would report).</summary>
    public static Checkpoint Write(string path, GgufMetadata meta, ModelDescription model)
    {
        var tensors = new List<(string Name, long[] Dims, int Type, long Bytes, int Layer, long Elements)>();
        foreach (var t in TensorInventory.Build(model))
        {
            // vectors and per-expert vectors (gpt-oss expert biases [n_ff, n_expert]) are f32, as converters store them
            bool vector = t.Rows == 1;
            long[] dims = t.Experts > 1 ? vector ? [t.Columns, t.Experts] : [t.Columns, t.Rows, t.Experts] : vector ? [t.Columns] : [t.Columns, t.Rows];
            int type = vector ? 0 : 1;                                   // ggml f32 / f16
            tensors.Add((t.Name, dims, type, t.Elements * (vector ? 4 : 2), t.Layer, t.Elements));
        }

        string arch = meta.Architecture;
        using (var fs = File.Create(path))
        using (var w = new BinaryWriter(fs))
        {
            var keys = meta.Keys.Where(k => k.StartsWith(arch + ".", StringComparison.Ordinal) || k == "general.architecture").ToList();
            w.Write(Encoding.ASCII.GetBytes("GGUF"));
            w.Write(3u);
            w.Write((ulong)tensors.Count);
            bool addContext = !meta.Has($"{arch}.context_length");
            // metadata keys + both norm epsilons + alignment + 4 tokenizer keys (+ context length when missing)
            w.Write((ulong)(keys.Count + 7 + (addContext ? 1 : 0)));
            foreach (var k in keys)
                WriteValue(w, k, meta.Get(k)!);
            WriteValue(w, $"{arch}.attention.layer_norm_rms_epsilon", 1e-5);
            WriteValue(w, $"{arch}.attention.layer_norm_epsilon", 1e-5);
            if (addContext)
                WriteValue(w, $"{arch}.context_length", 8192L);
            WriteValue(w, "general.alignment", (long)Alignment);
            WriteVocabulary(w, model.VocabSize);
            ulong offset = 0;
            foreach (var (name, dims, type, bytes, _, _) in tensors)
            {
                Str(w, name);
                w.Write((uint)dims.Length);
                foreach (var d in dims)
                    w.Write((ulong)d);
                w.Write((uint)type);
                w.Write(offset);
                offset += (ulong)((bytes + Alignment - 1) / Alignment * Alignment);
            }

            long data = (fs.Position + Alignment - 1) / Alignment * Alignment;
            fs.SetLength(data + (long)offset);
        }

        return new Checkpoint(CheckpointFormat.Gguf, tensors.Select(t => new CheckpointTensor(t.Name, t.Type == 0 ? "f32" : "f16", t.Layer, t.Elements, t.Bytes, t.Elements)), "F16");
    }

    private static void WriteVocabulary(BinaryWriter w, int vocab)
    {
        // SentencePiece layout llama.cpp's llama vocab expects: <unk>, <s>, </s>, the 256 byte tokens, then words
        var tokens = new List<string>(vocab) { "<unk>", "<s>", "</s>" };
        for (int i = 0; i < 256; i++)
            tokens.Add($"<0x{i:X2}>");
        for (int i = tokens.Count; i < vocab; i++)
            tokens.Add($"t{i}");
        Str(w, "tokenizer.ggml.model");
        w.Write(8u);
        Str(w, "llama");
        Str(w, "tokenizer.ggml.tokens");
        w.Write(9u);
        w.Write(8u);
        w.Write((ulong)vocab);
        foreach (var t in tokens.Take(vocab))
            Str(w, t);
        Str(w, "tokenizer.ggml.scores");
        w.Write(9u);
        w.Write(6u);
        w.Write((ulong)vocab);
        for (int i = 0; i < vocab; i++)
            w.Write(0f);
        Str(w, "tokenizer.ggml.token_type");
        w.Write(9u);
        w.Write(5u);
        w.Write((ulong)vocab);
        for (int i = 0; i < vocab; i++)
            w.Write(i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1);
    }

    private static void WriteValue(BinaryWriter w, string key, object value)
    {
        Str(w, key);
        switch (value)
        {
            case string s:
                w.Write(8u);
                Str(w, s);
                break;
            case long l:
                w.Write(4u);
                w.Write((uint)l);
                break;
            case double d:
                w.Write(6u);
                w.Write((float)d);
                break;
            case bool b:
                w.Write(7u);
                w.Write(b);
                break;
            case GgufArray a:
                w.Write(9u);
                bool boolArray = a.ElementType == "bool";
                w.Write(boolArray ? 7u : 5u);
                w.Write((ulong)a.Count);
                for (int i = 0; i < a.Count; i++)
                {
                    if (boolArray) w.Write(a.GetLong(i) != 0);
                    else w.Write((int)a.GetLong(i));
                }

                break;
            default:
                throw new ArgumentException($"cannot write {value.GetType().Name}");
        }
    }

    private static void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }
}
