using VramFit.Errors;

namespace VramFit.Engines.Serving;

/// <summary>
/// How a serving engine spreads one model replica over GPUs: tensor parallel (TP) splits heads and MLP
/// columns, pipeline parallel (PP) splits layers, expert parallel (EP) splits routed experts over the
/// TP × DP ranks instead of slicing each expert, data parallel (DP) replicates the whole layout.
/// </summary>
public sealed record ParallelLayout
{
    public ParallelLayout(int tensor = 1, int pipeline = 1, int data = 1, bool expertParallel = false)
    {
        Tensor = Check(tensor, "tensor_parallel_size");
        Pipeline = Check(pipeline, "pipeline_parallel_size");
        Data = Check(data, "data_parallel_size");
        ExpertParallel = expertParallel;
    }

    public int Tensor { get; }

    public int Pipeline { get; }

    public int Data { get; }

    public bool ExpertParallel { get; }

    /// <summary>Ranks that share the routed experts: TP × DP with expert parallelism (vLLM
    /// <c>--enable-expert-parallel</c>: EP size = TP × DP), else 1.</summary>
    public int ExpertRanks => ExpertParallel ? Tensor * Data : 1;

    /// <summary>GPUs used by the whole deployment.</summary>
    public int TotalGpus => Tensor * Pipeline * Data;

    /// <summary>
    /// First layer and count of pipeline stage <paramref name="stage"/> out of <paramref name="layers"/>
    /// layers. vLLM <c>get_pp_indices</c> (vllm/distributed/utils.py): every stage gets ⌊n/pp⌋ layers and the
    /// remainder goes one each to the stages just before the last, so the last stage (which also runs the
    /// head and the sampler) is never the largest.
    /// </summary>
    public (int Start, int Count) StageLayers(int layers, int stage)
    {
        if (stage < 0 || stage >= Pipeline)
            throw new ArgumentOutOfRangeException(nameof(stage));
        if (layers < Pipeline)
            throw new InvalidSettingException("pipeline_parallel_size", $"{Pipeline} stages for {layers} layers: every stage needs a layer");
        int per = layers / Pipeline, rest = layers % Pipeline;
        Span<int> counts = stackalloc int[Pipeline];
        counts.Fill(per);
        for (int i = 2; i < rest + 2; i++)
            counts[Pipeline - i]++;
        int start = 0;
        for (int i = 0; i < stage; i++)
            start += counts[i];
        return (start, counts[stage]);
    }

    private static int Check(int value, string name) => value is < 1 or > 4096
        ? throw new InvalidSettingException(name, $"must be between 1 and 4096, got {value}")
        : value;
}
