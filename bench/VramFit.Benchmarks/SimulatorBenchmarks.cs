using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using VramFit.Hardware;
using VramFit.Models;
using VramFit.Performance;
using VramFit.Simulation;

namespace VramFit.Benchmarks;

/// <summary>
/// Serving simulator throughput: 10,000 and 100,000 requests of Llama-3.1-8B on an H100 (datasheet figures)
/// under continuous batching, priced by the roofline model. Requests simulated per second = N / mean time;
/// the Iterations/s column is the run's <see cref="SimulationResult.Iterations"/> / mean time, next to the run's
/// mean batch: Poisson arrivals (batch ~110) and a closed loop of 256 users (batch ~250) are the large-batch
/// cases, a closed loop of 8 users the small-batch one. Also the raw price of one performance-model step
/// (the planner's inner loop).
/// Run: dotnet run -c Release --project bench/VramFit.Benchmarks -- --filter '*SimulatorBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Columns))]
public class SimulatorBenchmarks
{
    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(SimulationColumn.IterationsPerSecond, SimulationColumn.MeanBatch);
    }

    private ServingSimulator _continuous = null!;
    private ServingSimulator _static = null!;
    private PerformanceModel _model = null!;
    private RequestPlan _plan = null!;
    private RequestPlan _closedLoop = null!;
    private RequestPlan _closedLoop256 = null!;

    [Params(10_000, 100_000)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // NVIDIA H100 SXM5 datasheet: 3.35 TB/s, 989.4 dense BF16 TFLOPS, NVLink 900 GB/s
        var h100 = new Accelerator
        {
            Id = "h100-sxm", Name = "H100 SXM", Vendor = AcceleratorVendor.Nvidia, MemoryBytes = 80L << 30,
            MemoryBandwidthGBps = 3350, Bf16Tflops = 989.4, Fp16Tflops = 989.4, InterconnectGBps = 900,
        };
        _model = PerformanceModel.Create(ModelProfile.Create(ModelCatalog.Find("meta-llama/Llama-3.1-8B").Describe()), h100);
        var options = SchedulerOptions.VllmServeDefaults(h100, 450_000);   // 1024 sequences, 8192 tokens
        _continuous = new ServingSimulator(_model, options);
        _static = new ServingSimulator(_model, options with { Policy = BatchingPolicy.Static });
        _plan = new Workload
        {
            Rate = 20, Requests = Requests, Seed = 1,
            PromptLength = LengthDistribution.Parse("lognormal:1000,0.5", "prompt"),
            OutputLength = LengthDistribution.Parse("lognormal:250,0.5", "output"),
        }.Generate();
        // 8 users back to back: small batches, long pure-decode stretches
        _closedLoop = ClosedLoop(8);
        // 256 users back to back: a batch of ~250 that changes every few iterations (a request leaves, its user's
        // next one is prefilled)
        _closedLoop256 = ClosedLoop(256);
    }

    private RequestPlan ClosedLoop(int users) => new Workload
    {
        Arrivals = ArrivalKind.ClosedLoop, Users = users, Requests = Requests, Seed = 1,
        PromptLength = LengthDistribution.Parse("lognormal:1000,0.5", "prompt"),
        OutputLength = LengthDistribution.Parse("lognormal:250,0.5", "output"),
    }.Generate();

    [Benchmark(Baseline = true)]
    public SimulationResult Continuous() => _continuous.Run(_plan);

    [Benchmark]
    public SimulationResult ClosedLoop256Users() => _continuous.Run(_closedLoop256);

    [Benchmark]
    public SimulationResult ClosedLoop8Users() => _continuous.Run(_closedLoop);

    [Benchmark]
    public SimulationResult Static() => _static.Run(_plan);

    [Benchmark(OperationsPerInvoke = 1000)]
    public double PerformanceModelStep()
    {
        double sum = 0;
        for (int i = 0; i < 1000; i++)
            sum += _model.Step(new StepShape(1, 512 + i, 200_000, 64, 64_000 + i)).TotalSeconds;
        return sum;
    }
}
