using System.Globalization;
using VramFit.Engines.Vllm;
using Xunit.Abstractions;

namespace VramFit.Tests.Engines.Vllm;

public class VllmPublicCasesTests(ITestOutputHelper output)
{
    [Fact]
    public void Reports_every_figure_of_the_public_cases()
    {
        var engine = new VllmEngine();
        foreach (var c in ServingCase.Vllm)
        {
            var report = engine.Estimate(c.Request());
            foreach (var (name, observed) in c.Observed)
            {
                Assert.True(report.PrintedFigures.TryGetValue(name, out var predicted), $"{c.Id}: {name} not predicted");
                double err = observed == 0 ? 0 : (predicted - observed) / observed * 100;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c.Id,-70} {name,-20} obs {observed,12:0.####} pred {predicted,12:0.####} err {err,7:0.0}%"));
            }
        }
    }
}
