namespace VramFit.Sources.Safetensors;

/// <summary>Layer indices in Hugging Face tensor names ("model.layers.12.self_attn.q_proj.weight", "transformer.h.3.attn…").</summary>
public static class HfTensorNames
{
    private static readonly string[] BlockContainers = [".layers.", ".h.", ".blocks.", ".block.", ".layer."];

    /// <summary>The block index after the first "layers."/"h."/"blocks." segment, or -1.</summary>
    public static int LayerOf(string name)
    {
        var padded = "." + name;
        foreach (var container in BlockContainers)
        {
            int at = padded.IndexOf(container, StringComparison.Ordinal);
            if (at < 0)
                continue;
            int i = at + container.Length, layer = 0, start = i;
            while (i < padded.Length && char.IsAsciiDigit(padded[i]) && layer < 10_000_000)
                layer = layer * 10 + (padded[i++] - '0');
            if (i > start && (i == padded.Length || padded[i] == '.'))
                return layer;
        }

        return -1;
    }
}
