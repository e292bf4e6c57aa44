using VramFit.Engines;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Tests.Engines.Serving;

namespace VramFit.Tests.Engines.Vllm;

/// <summary>
/// The 13 vLLM runs of shared/validation/cases-public.jsonl: settings and printed figures copied from the
/// case file, models and GPUs built by hand in <see cref="ServingFixtures"/>.
/// </summary>
internal sealed record ServingCase(string Id, string Engine, Func<ModelDescription> Model, Accelerator Gpu, int Gpus,
    IReadOnlyDictionary<string, string> Settings, IReadOnlyDictionary<string, double> Observed)
{
    public EstimateRequest Request() => new(Model(), new Deployment(Gpu, Gpus), new Workload(), new EngineSettings(Settings));

    private static Dictionary<string, string> S(params (string, object)[] p) =>
        p.ToDictionary(x => x.Item1, x => Convert.ToString(x.Item2, System.Globalization.CultureInfo.InvariantCulture)!);

    private static Dictionary<string, double> O(params (string, double)[] p) => p.ToDictionary(x => x.Item1, x => x.Item2);

    public static IReadOnlyList<ServingCase> Vllm { get; } =
    [
        new("vllm-phi4-autoround-gptq4-h100-util015", "vllm", ServingFixtures.Phi4Gptq, ServingFixtures.H100, 1,
            S(("engine_version", "~0.6.x V0"), ("tensor_parallel_size", 1), ("gpu_memory_utilization", 0.15), ("max_model_len", 2048), ("quantization", "gptq_marlin")),
            O(("weights_gib", 8.5107), ("non_torch_gib", 0.26), ("activation_peak_gib", 0.94), ("kv_cache_gib", 2.18), ("gpu_blocks", 715), ("max_concurrency", 5.59), ("cuda_graph_gib", 0.27))),
        new("vllm-qwen2-7b-a100-80g-tp1-util025", "vllm", ServingFixtures.Qwen2_7B, ServingFixtures.A100_80, 1,
            S(("engine_version", "0.10.1.1 V1"), ("tensor_parallel_size", 1), ("pipeline_parallel_size", 1), ("gpu_memory_utilization", 0.25), ("max_model_len", 16384), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_chunked_prefill", true)),
            O(("weights_gib", 14.2488), ("available_kv_gib", 5.01), ("kv_tokens", 93872), ("max_concurrency", 5.73), ("cuda_graph_gib", 0.5))),
        new("vllm-qwen2-7b-2xa100-80g-tp2-util025", "vllm", ServingFixtures.Qwen2_7B, ServingFixtures.A100_80, 2,
            S(("engine_version", "0.10.1.1 V1"), ("tensor_parallel_size", 2), ("pipeline_parallel_size", 1), ("gpu_memory_utilization", 0.25), ("max_model_len", 16384), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_chunked_prefill", true)),
            O(("weights_gib", 7.1217), ("available_kv_gib", 12.02), ("kv_tokens", 450192), ("max_concurrency", 27.48), ("cuda_graph_gib", 0.65))),
        new("vllm-qwen2-7b-2xa100-80g-tp2-util050", "vllm", ServingFixtures.Qwen2_7B, ServingFixtures.A100_80, 2,
            S(("engine_version", "0.10.1.1 V1"), ("tensor_parallel_size", 2), ("pipeline_parallel_size", 1), ("gpu_memory_utilization", 0.5), ("max_model_len", 16384), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_chunked_prefill", true)),
            O(("weights_gib", 7.1217), ("available_kv_gib", 31.83), ("kv_tokens", 1192160), ("max_concurrency", 72.76), ("cuda_graph_gib", 0.65))),
        new("vllm-gptoss-120b-4xa100-80g-tp4-util080-ray", "vllm", ServingFixtures.GptOss120B, ServingFixtures.A100_80, 4,
            S(("engine_version", "0.10.1.1 V1"), ("tensor_parallel_size", 4), ("pipeline_parallel_size", 1), ("gpu_memory_utilization", 0.8), ("max_model_len", 16384), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("quantization", "mxfp4"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_chunked_prefill", true)),
            O(("weights_gib", 17.2217), ("available_kv_gib", 45.32), ("kv_tokens", 2640144), ("max_concurrency", 284.25), ("cuda_graph_gib", 1.88))),
        new("vllm-llama3-8b-h100-tp1-pr10511", "vllm", () => ServingFixtures.Llama31_8B(8192, "meta-llama/Meta-Llama-3-8B"), ServingFixtures.H100Pr10511, 1,
            S(("engine_version", "main@2024-12-13 (PR #10511) V0"), ("tensor_parallel_size", 1), ("gpu_memory_utilization", 0.9), ("max_model_len", 8192), ("dtype", "bfloat16")),
            O(("weights_gib", 14.96), ("non_torch_gib", 1.79), ("activation_peak_gib", 1.26), ("kv_cache_gib", 53.29))),
        new("vllm-llama3-8b-h100-tp2-pr10511", "vllm", () => ServingFixtures.Llama31_8B(8192, "meta-llama/Meta-Llama-3-8B"), ServingFixtures.H100Pr10511, 2,
            S(("engine_version", "main@2024-12-13 (PR #10511) V0"), ("tensor_parallel_size", 2), ("gpu_memory_utilization", 0.9), ("max_model_len", 8192)),
            O(("weights_gib", 7.48), ("non_torch_gib", 3.58), ("activation_peak_gib", 1.26))),
        new("vllm-r1-distill-qwen-14b-2x4090-tp2-util098", "vllm", ServingFixtures.R1DistillQwen14B, ServingFixtures.Rtx4090, 2,
            S(("engine_version", "~0.7.x V0"), ("tensor_parallel_size", 2), ("gpu_memory_utilization", 0.98), ("max_model_len", 131072), ("trust_remote_code", true),
                // the reporter quoted a non-driver worker's profile line (the case notes say so; the validation runner reads them)
                ("printed_rank", "worker")),
            O(("weights_gib", 13.9476), ("non_torch_gib", 0.25), ("activation_peak_gib", 0.19), ("kv_cache_gib", 8.69), ("kv_tokens", 81536))),
        new("vllm-codellama-13b-fp16-2x4090-tp2-v024", "vllm", ServingFixtures.CodeLlama13B, ServingFixtures.Rtx4090, 2,
            S(("engine_version", "0.2.4 V0"), ("tensor_parallel_size", 2), ("gpu_memory_utilization", 0.95), ("max_model_len", 16384), ("max_num_seqs", 16), ("dtype", "float16"), ("swap_space", 8)),
            O(("gpu_blocks", 1464))),
        new("vllm-codellama-13b-fp16-2x4090-tp2-v025", "vllm", ServingFixtures.CodeLlama13B, ServingFixtures.Rtx4090, 2,
            S(("engine_version", "0.2.5 V0"), ("tensor_parallel_size", 2), ("gpu_memory_utilization", 0.95), ("max_model_len", 16384), ("max_num_seqs", 16), ("dtype", "float16"), ("swap_space", 8)),
            O(("gpu_blocks", 112))),
        new("vllm-unsloth-llama-3-2-1b-instruct-fp8-block-l4-v0112", "vllm", ServingFixtures.Llama32_1B_Fp8Block, ServingFixtures.L4, 1,
            S(("engine_version", "0.11.2 V1"), ("tensor_parallel_size", 1), ("gpu_memory_utilization", 0.8662), ("max_model_len", 2048), ("max_num_seqs", 288), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("quantization", "compressed-tensors"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_lora", true),
                // Unsloth's fast_inference exports VLLM_USE_FLASHINFER_SAMPLER=1 (the validation runner reads it from the case notes)
                ("use_flashinfer_sampler", true)),
            O(("weights_gib", 1.4721), ("available_kv_gib", 17.2), ("kv_tokens", 563744), ("max_concurrency", 275.27), ("cuda_graph_gib", 1.15))),
        new("vllm-unsloth-qwen3-8b-fp8-l4-v0102", "vllm", ServingFixtures.Qwen3_8B_Fp8, ServingFixtures.L4, 1,
            S(("engine_version", "0.10.2 V1"), ("tensor_parallel_size", 1), ("gpu_memory_utilization", 0.8662), ("max_model_len", 2048), ("max_num_seqs", 224), ("max_num_batched_tokens", 2048), ("dtype", "bfloat16"), ("quantization", "fp8"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", true), ("enable_chunked_prefill", true), ("enable_lora", true)),
            O(("weights_gib", 8.9638), ("available_kv_gib", 8.98), ("kv_tokens", 65376), ("max_concurrency", 31.92), ("cuda_graph_gib", 1.12))),
        new("vllm-unsloth-qwen2-5-vl-7b-instruct-unsloth-bnb-4bit-teslat4-v092", "vllm", ServingFixtures.Qwen25VL7B_Bnb, ServingFixtures.T4, 1,
            S(("engine_version", "0.9.2 V0"), ("tensor_parallel_size", 1), ("gpu_memory_utilization", 0.7693), ("max_model_len", 16384), ("max_num_seqs", 1), ("max_num_batched_tokens", 16384), ("dtype", "float16"), ("quantization", "bitsandbytes"), ("kv_cache_dtype", "auto"), ("enforce_eager", false), ("enable_prefix_caching", false), ("enable_chunked_prefill", true), ("enable_lora", true)),
            O(("weights_gib", 6.794), ("non_torch_gib", 0.03), ("activation_peak_gib", 2.71), ("kv_cache_gib", 1.81), ("gpu_blocks", 2118), ("max_concurrency", 2.07), ("cuda_graph_gib", 0.04))),
    ];
}
