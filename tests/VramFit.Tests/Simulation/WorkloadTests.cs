using VramFit.Errors;
using VramFit.Simulation;

namespace VramFit.Tests.Simulation;

public class WorkloadTests
{
    [Theory]
    [InlineData("512", 512)]
    [InlineData("fixed:100", 100)]
    [InlineData("uniform:100,300", 200)]
    [InlineData("normal:1000,100", 1000)]
    [InlineData("lognormal:1000,0.5", 1000)]
    public void Sample_means_match_the_parameters(string spec, double mean)
    {
        var d = LengthDistribution.Parse(spec, "prompt-len");
        var random = new DeterministicRandom(42);
        double sum = 0;
        const int n = 200_000;
        for (int i = 0; i < n; i++)
            sum += d.Sample(random);
        Assert.InRange(sum / n, mean * 0.99, mean * 1.01);
    }

    [Theory]
    [InlineData("lognormal:1000")]
    [InlineData("uniform:10,5")]
    [InlineData("zipf:1,2")]
    [InlineData("fixed:0")]
    [InlineData("normal:abc,1")]
    public void Malformed_distributions_are_user_errors(string spec) =>
        Assert.Throws<InvalidSettingException>(() => LengthDistribution.Parse(spec, "prompt-len"));

    [Fact]
    public void Poisson_and_gamma_arrivals_have_the_requested_rate_and_burstiness()
    {
        foreach (var (kind, cv) in new[] { (ArrivalKind.Poisson, 1.0), (ArrivalKind.Gamma, 3.0) })
        {
            var plan = new Workload { Arrivals = kind, Rate = 5, GammaCv = cv, Requests = 100_000, Seed = 9 }.Generate();
            var gaps = plan.Arrival.Zip(plan.Arrival.Skip(1), (a, b) => b - a).ToArray();
            double mean = gaps.Average(), sd = Math.Sqrt(gaps.Select(g => (g - mean) * (g - mean)).Average());
            Assert.InRange(mean, 0.2 * 0.98, 0.2 * 1.02);
            Assert.InRange(sd / mean, cv * 0.95, cv * 1.05);
        }
    }

    [Fact]
    public void Same_seed_same_requests_and_another_seed_differs()
    {
        var w = new Workload { Requests = 1000, PromptLength = LengthDistribution.Parse("lognormal:500,1", "p"), Seed = 1 };
        Assert.Equal(w.Generate().PromptTokens, w.Generate().PromptTokens);
        Assert.NotEqual(w.Generate().PromptTokens, (w with { Seed = 2 }).Generate().PromptTokens);
    }

    [Fact]
    public void Traces_read_from_jsonl_and_csv()
    {
        var jsonl = TraceReader.ReadJsonLines(new StringReader(
            "{\"timestamp\": 10.5, \"input_tokens\": 100, \"output_tokens\": 20}\n\n{\"arrival\": 11, \"prompt_tokens\": 5, \"max_tokens\": 1}\n"), "t.jsonl");
        Assert.Equal([new TraceRequest(10.5, 100, 20), new TraceRequest(11, 5, 1)], jsonl.ToArray());
        var csv = TraceReader.ReadCsv(new StringReader("arrival_time,prompt_tokens,output_tokens\n0,10,2\n0.5,20,3\n"), "t.csv");
        Assert.Equal(new TraceRequest(0.5, 20, 3), csv[1]);
        var plan = new Workload { Arrivals = ArrivalKind.Trace, Trace = jsonl }.Generate();
        Assert.Equal([0.0, 0.5], plan.Arrival);
    }

    [Theory]
    [InlineData("{\"arrival\": 1, \"prompt_tokens\": 0, \"output_tokens\": 1}")]
    [InlineData("{\"arrival\": -1, \"prompt_tokens\": 3, \"output_tokens\": 1}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{not json")]
    public void Bad_trace_lines_name_the_line(string line)
    {
        var e = Assert.Throws<InvalidSettingException>(() => TraceReader.ReadJsonLines(new StringReader(line), "t.jsonl"));
        Assert.Contains("t.jsonl:1", e.Message);
    }

    [Fact]
    public void Time_series_stay_bounded_and_keep_the_time_weighted_mean()
    {
        var rec = new TimeSeriesRecorder(capacity: 64, initialWidth: 0.001);
        double t = 0;
        for (int i = 0; i < 100_000; i++)
        {
            t += 0.01;
            rec.Add(t, i % 2);
        }

        var points = rec.ToPoints();
        Assert.True(points.Length <= 64);
        double weighted = points.Sum(p => p.Value * (p.End - p.Start)) / points[^1].End;
        Assert.Equal(0.5, weighted, 3);
        Assert.Equal(t, points[^1].End, 6);
    }
}
