using System.Text.Json;
using VramFit.Tests.Sources.Gguf;

namespace VramFit.Tests.Cli;

/// <summary>A GGUF file on disk goes through the whole chain: reader → translator → llama.cpp engine → CLI.</summary>
public class GgufEstimateTests
{
    [Fact]
    public void A_gguf_file_is_estimated_by_llama_cpp_from_its_exact_tensor_bytes()
    {
        var dir = Directory.CreateTempSubdirectory("vramfit-gguf-");
        try
        {
            var path = Path.Combine(dir.FullName, "tiny-Q4_K.gguf");
            var writer = GgufFixtures.Llama(layers: 4, hidden: 512, vocab: 256);
            writer.WriteFile(path);
            var file = VramFit.Sources.Gguf.GgufReader.ReadFile(path);
            var (code, output, err) = EstimateCommandTests.Run("estimate", path, "--engine", "llama.cpp", "--gpu", "8GiB", "--set", "ctx_size=4096", "--json");
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(output);
            long modelBytes = doc.RootElement.GetProperty("gpus").EnumerateArray().Sum(g => g.GetProperty("weightBytes").GetInt64())
                + doc.RootElement.GetProperty("host").EnumerateArray().Sum(g => g.GetProperty("weightBytes").GetInt64());
            Assert.Equal(file.Checkpoint.TotalBytes, modelBytes);
            // without --engine a GGUF file runs on llama.cpp
            var (autoCode, auto, _) = EstimateCommandTests.Run("estimate", path, "--json");
            Assert.Equal(0, autoCode);
            Assert.Contains("\"engine\": \"llama.cpp\"", auto, StringComparison.Ordinal);
            var (inspectCode, inspect, _) = EstimateCommandTests.Run("inspect", path, "--json");
            Assert.Equal(0, inspectCode);
            Assert.Contains("\"architecture\": \"llama\"", inspect, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void A_truncated_gguf_is_a_one_line_error()
    {
        var dir = Directory.CreateTempSubdirectory("vramfit-gguf-");
        try
        {
            var path = Path.Combine(dir.FullName, "broken.gguf");
            var bytes = GgufFixtures.Llama().ToArray();
            File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
            var (code, _, err) = EstimateCommandTests.Run("estimate", path, "--engine", "llama.cpp");
            Assert.Equal(2, code);
            Assert.StartsWith("error: ", err, StringComparison.Ordinal);
            Assert.Single(err.Trim().Split('\n'));
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
