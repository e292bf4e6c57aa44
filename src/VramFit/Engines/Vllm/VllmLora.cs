using VramFit.Engines.Serving;
using VramFit.Models;

namespace VramFit.Engines.Vllm;

/// <summary>
/// LoRA adapter slots vLLM allocates at load time with <c>--enable-lora</c> (vllm/lora/layers: every
/// supported linear layer gets <c>lora_a_stacked</c> [max_loras, 1, max_lora_rank, in] and <c>lora_b_stacked</c>
/// [max_loras, 1, out, max_lora_rank] per output slice, in the model dtype, sharded like the base layer:
/// column-parallel layers split B's output, row-parallel layers split A's input). Counted in
/// "Model loading took".
/// </summary>
public static class VllmLora
{
    public static long Bytes(ModelDescription model, ParallelLayout layout, int firstLayer, int layerCount, int rank, int maxLoras, int dtypeBytes)
    {
        long h = model.HiddenSize;
        int tp = layout.Tensor;
        long elements = 0;
        for (int i = firstLayer; i < firstLayer + layerCount; i++)
        {
            var layer = model.Layers[i];
            var a = layer.Attention;
            if (a.Kind is AttentionKind.Full or AttentionKind.SlidingWindow)
            {
                long q = (long)a.HeadCount * a.KeyHeadDim / tp;
                long kv = Math.Max(1, a.KvHeadCount / tp) * (long)a.KeyHeadDim;
                // qkv_proj: three slices, each A [rank × h] and B [out_slice × rank]; o_proj: A [rank × q/tp], B [h × rank]
                elements += 3 * rank * h + (q + 2 * kv) * rank;
                elements += rank * ((long)a.HeadCount * a.ValueHeadDim / tp) + h * rank;
            }

            if (layer.Mlp.Kind == MlpKind.Dense)
            {
                long inter = layer.Mlp.FfnSize / tp;
                int slices = layer.Mlp.Gated ? 2 : 1;
                elements += slices * (rank * h + inter * rank);
                elements += rank * inter + h * rank;
            }
        }

        return elements * maxLoras * dtypeBytes;
    }
}
