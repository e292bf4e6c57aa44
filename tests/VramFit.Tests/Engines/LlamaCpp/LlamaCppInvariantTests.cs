using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using VramFit.Engines;
using VramFit.Engines.LlamaCpp;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Reports;
using VramFit.Sources.Gguf;
using static VramFit.Tests.Sources.Gguf.GgufMetadataFixtures;

namespace VramFit.Tests.Engines.LlamaCpp;

/// <summary>Properties every placement must keep, over random settings.</summary>
public class LlamaCppInvariantTests
{
    private static readonly ModelDescription Qwen = GgufModelTranslator.Translate(Qwen3_30B_A3B());
    private static readonly Checkpoint QwenTensors = LlamaCppTensors.Estimate(Qwen);
    private static readonly ModelDescription Gemma = GgufModelTranslator.Translate(Gemma3_27B());

    private static MemoryReport Run(ModelDescription model, int gpus, params (string, string)[] settings) =>
        new LlamaCppEngine().Estimate(new EstimateRequest(model, new Deployment(new Accelerator
        {
            Id = "g", Name = "g", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 24L << 30, MemoryBandwidthGBps = 1,
        }, gpus), new Workload(), new EngineSettings(settings.Select(s => new KeyValuePair<string, string>(s.Item1, s.Item2)))));

    private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Weights_are_conserved_whatever_the_placement() =>
        Prop.ForAll(Gen.Choose(0, 60).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), Gen.Choose(0, 48).ToArbitrary(), (ngl, gpus, cpuMoe) =>
        {
            // without mmap every tensor is copied into exactly one buffer
            var r = Run(Qwen, gpus, ("n_gpu_layers", S(ngl)), ("n_cpu_moe", S(cpuMoe)), ("ctx_size", "4096"), ("no_mmap", "true"));
            long weights = r.Devices.SelectMany(d => d.Items).Where(i => i.Category == MemoryCategory.Weights).Sum(i => i.Bytes);
            return weights == QwenTensors.TotalBytes;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void The_mapped_host_buffer_covers_its_tensors_and_never_exceeds_the_file() =>
        Prop.ForAll(Gen.Choose(0, 60).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), Gen.Choose(0, 48).ToArbitrary(), (ngl, gpus, cpuMoe) =>
        {
            var mapped = Run(Qwen, gpus, ("n_gpu_layers", S(ngl)), ("n_cpu_moe", S(cpuMoe)), ("ctx_size", "4096"));
            var copied = Run(Qwen, gpus, ("n_gpu_layers", S(ngl)), ("n_cpu_moe", S(cpuMoe)), ("ctx_size", "4096"), ("no_mmap", "true"));
            long Weights(MemoryReport r, Func<string, bool> device) =>
                r.Devices.SelectMany(d => d.Items).Where(i => i.Category == MemoryCategory.Weights && device(i.Device)).Sum(i => i.Bytes);
            long span = Weights(mapped, d => d == "CPU_Mapped");
            long host = Weights(copied, d => !d.StartsWith("CUDA", StringComparison.Ordinal) || d == "CUDA_Host");
            long file = QwenTensors.TotalBytes + 32L * QwenTensors.Tensors.Length;
            // the same device buffers either way; the mapped range holds at least the host tensors
            return Weights(mapped, d => d.StartsWith("CUDA", StringComparison.Ordinal)) == Weights(copied, d => d.StartsWith("CUDA", StringComparison.Ordinal) && d != "CUDA_Host")
                && span >= host && span <= file;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Kv_is_the_same_total_however_the_layers_are_split() =>
        Prop.ForAll(Gen.Choose(0, 60).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (ngl, gpus) =>
        {
            var split = Run(Qwen, gpus, ("n_gpu_layers", S(ngl)), ("ctx_size", "8192"));
            var one = Run(Qwen, 1, ("ctx_size", "8192"));
            long Kv(MemoryReport r) => r.Devices.SelectMany(d => d.Items).Where(i => i.Category == MemoryCategory.KvCache).Sum(i => i.Bytes);
            return Kv(split) == Kv(one);
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Memory_never_shrinks_when_context_or_ubatch_grow() =>
        Prop.ForAll(Gen.Choose(1, 128).ToArbitrary(), Gen.Choose(1, 16).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (ctxK, ub, fa) =>
        {
            long Total(int ctx, int ubatch) => Run(Gemma, 1, ("ctx_size", S(ctx)), ("ubatch_size", S(ubatch)), ("flash_attn", fa ? "on" : "off"))
                .Accelerators.Sum(d => d.TotalBytes);
            int c = ctxK * 1024, u = ub * 64;
            return Total(c + 1024, u) >= Total(c, u) && Total(c, u + 64) >= Total(c, u);
        }).QuickCheckThrowOnFailure();
}
