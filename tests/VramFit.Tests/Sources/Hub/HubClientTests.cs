using System.Diagnostics;
using System.Text;
using VramFit.Errors;
using VramFit.Numerics;
using VramFit.Sources;
using VramFit.Sources.Gguf;
using VramFit.Sources.Hub;
using VramFit.Tests.Sources.Gguf;
using VramFit.Tests.Sources.Safetensors;

namespace VramFit.Tests.Sources.Hub;

public sealed class HubClientTests : IDisposable
{
    private readonly FakeHubServer server = new();

    public void Dispose() => server.Dispose();

    private ModelSourceOptions Options(string? token = null, TimeSpan? timeout = null, int initialRange = 64 * 1024, IProgress<long>? progress = null) => new()
    {
        Hub = new HubOptions
        {
            Endpoint = server.Endpoint, Token = token, RetryBaseDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 2,
            Timeout = timeout ?? TimeSpan.FromSeconds(10), InitialRangeBytes = initialRange,
        },
        Progress = progress,
        HfCacheDirectory = Path.Combine(Path.GetTempPath(), "vramfit-no-cache-" + Guid.NewGuid().ToString("N")),
    };

    private static byte[] BigVocabGguf(int vocab, out GgufFile local)
    {
        var w = GgufFixtures.Llama(layers: 2, hidden: 256, vocab: vocab);
        var bytes = w.ToArray();
        local = GgufFixtures.Read(bytes);
        return bytes;
    }

    [Fact]
    public void Reads_a_remote_gguf_header_in_a_few_growing_range_requests()
    {
        var bytes = BigVocabGguf(60_000, out var local);
        server.AddRepo("org/model-GGUF", new Dictionary<string, byte[]> { ["model-Q4_K_M.gguf"] = bytes, ["README.md"] = "hi"u8.ToArray() });
        long lastProgress = 0;
        var progress = new SynchronousProgress(v => lastProgress = v);

        var source = ModelSources.Open("org/model-GGUF", Options(progress: progress));

        Assert.Equal(ModelSourceKind.Hub, source.Kind);
        Assert.Equal(local.Tensors.Select(t => (t.Name, t.Bytes)), source.Gguf!.Tensors.Select(t => (t.Name, t.Bytes)));
        Assert.Equal(60_000, source.Gguf.VocabSize);
        // header ≈ 1 MB: 64k + 128k + 256k + 512k + 1M ranges; never the whole file.
        Assert.InRange(server.RangeRequests, 2, 5);
        Assert.True(lastProgress > local.DataOffset / 2 && lastProgress < bytes.Length, $"downloaded {lastProgress} of {bytes.Length}");
        Assert.Contains(server.Requests, r => r.Path == "/api/models/org/model-GGUF/revision/main");
        Assert.All(server.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)), r => Assert.Contains("0123456789abcdef", r.Path));
    }

    [Fact]
    public void Reads_sharded_safetensors_with_one_range_request_per_shard()
    {
        var tensors = SafetensorsFixtures.Llama(2, 128, 256, 4, 2, 500);
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = Encoding.UTF8.GetBytes(SafetensorsFixtures.LlamaConfig(2, 128, 256, 4, 2, 500)),
            ["model-00001-of-00002.safetensors"] = SafetensorsFixtures.Bytes(tensors.Take(10)),
            ["model-00002-of-00002.safetensors"] = SafetensorsFixtures.Bytes(tensors.Skip(10)),
        };
        var map = tensors.Select((t, i) => $"\"{t.Name}\":\"model-0000{(i < 10 ? 1 : 2)}-of-00002.safetensors\"");
        files["model.safetensors.index.json"] = Encoding.UTF8.GetBytes($"{{\"metadata\":{{\"total_size\":1}},\"weight_map\":{{{string.Join(',', map)}}}}}");
        server.AddRepo("org/llama-tiny", files);

        var source = ModelSources.Open("org/llama-tiny@main", Options());

        Assert.Equal(2, source.Safetensors!.Shards.Length);
        Assert.Equal(2, server.RangeRequests);
        Assert.NotNull(source.Description);
        Assert.Equal("org/llama-tiny", source.Description!.Name);
        Assert.Equal(VramFit.Models.TensorInventory.ParameterCount(source.Description), source.Checkpoint!.LogicalParameters);
    }

    [Fact]
    public void Split_gguf_on_the_hub_reads_every_part()
    {
        var parts = new Dictionary<string, byte[]>();
        for (int p = 0; p < 2; p++)
        {
            var w = new GgufWriter().Add("split.no", GgufValueType.UInt16, p).Add("split.count", GgufValueType.UInt16, 2);
            if (p == 0)
                w.Add("general.architecture", "llama");
            w.AddTensor($"blk.{p}.w", GgmlType.Q8_0, 64, 4);
            parts[$"Q8_0/m-0000{p + 1}-of-00002.gguf"] = w.ToArray();
        }

        server.AddRepo("org/split", parts);
        var source = ModelSources.Open("org/split:Q8_0/m-00001-of-00002.gguf", Options());
        Assert.Equal(2, source.Gguf!.Tensors.Length);

        server.AddRepo("org/split-missing", parts.Take(1).ToDictionary());
        Assert.Contains("m-00002-of-00002.gguf", Assert.Throws<HubException>(() => ModelSources.Open("org/split-missing:Q8_0/m-00001-of-00002.gguf", Options())).Message);
    }

    [Fact]
    public void Gated_model_mentions_hf_token_and_opens_with_it()
    {
        server.AddRepo("org/gated", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Gated.Add("org/gated");
        server.RequiredToken = "hf_good";

        var anonymous = Assert.Throws<HubException>(() => ModelSources.Open("org/gated", Options()));
        Assert.Contains("gated", anonymous.Message);
        Assert.Contains("HF_TOKEN", anonymous.Message);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.Status);

        var wrong = Assert.Throws<HubException>(() => ModelSources.Open("org/gated", Options(token: "hf_bad")));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, wrong.Status);
        Assert.Contains("HF_TOKEN sent is not allowed", wrong.Message);

        Assert.NotNull(ModelSources.Open("org/gated", Options(token: "hf_good")).Gguf);
        Assert.Contains(server.Requests, r => r.Authorization == "Bearer hf_good");
    }

    [Theory]
    [InlineData("org/absent", "model org/absent not found")]
    [InlineData("org/present@v9", "revision 'v9' of org/present not found")]
    [InlineData("org/present:nope.gguf", "file 'nope.gguf' not found")]
    public void Not_found_says_what_is_missing(string spec, string expected)
    {
        server.AddRepo("org/present", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        Assert.Contains(expected, Assert.Throws<HubException>(() => ModelSources.Open(spec, Options())).Message);
    }

    [Fact]
    public void File_deleted_between_listing_and_download_is_a_404_naming_it()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/resolve/", Status: 404));
        Assert.Contains("file 'm.gguf' not found", Assert.Throws<HubException>(() => ModelSources.Open("org/m", Options())).Message);
    }

    [Fact]
    public void Rate_limit_then_success_honours_retry_after()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/api/", Status: 429, RetryAfter: "1"));
        var watch = Stopwatch.StartNew();
        Assert.NotNull(ModelSources.Open("org/m", Options()).Gguf);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"waited {watch.Elapsed}");
        Assert.Equal(2, server.Requests.Count(r => r.Path.StartsWith("/api/", StringComparison.Ordinal)));
    }

    [Fact]
    public void Server_errors_are_retried_with_backoff_then_reported()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/resolve/", Status: 500));
        Assert.NotNull(ModelSources.Open("org/m", Options()).Gguf);

        for (int i = 0; i < 3; i++)
            server.Inject(new FakeHubServer.Fault("/api/", Status: 503));
        var e = Assert.Throws<HubException>(() => ModelSources.Open("org/m", Options()));
        Assert.Contains("HTTP 503", e.Message);
        Assert.Contains("after 2 retries", e.Message);
    }

    [Fact]
    public void Truncated_body_is_reported()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/resolve/", Truncate: true));
        Assert.Contains("truncated", Assert.Throws<HubException>(() => ModelSources.Open("org/m", Options())).Message);
    }

    [Fact]
    public void Range_answer_shorter_than_its_content_range_is_reported()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/resolve/", ShortRange: true));
        Assert.Contains("truncated", Assert.Throws<HubException>(() => ModelSources.Open("org/m", Options())).Message);
    }

    [Fact]
    public void A_256k_token_header_costs_at_most_four_range_requests_with_default_sizes()
    {
        var bytes = BigVocabGguf(262_144, out var local);
        server.AddRepo("org/big", new Dictionary<string, byte[]> { ["big.gguf"] = bytes });
        var options = Options();
        var source = ModelSources.Open("org/big", options with { Hub = options.Hub! with { InitialRangeBytes = new HubOptions().InitialRangeBytes } });
        Assert.Equal(262_144, source.Gguf!.VocabSize);
        Assert.True(local.DataOffset > 4 << 20, $"header of {local.DataOffset} bytes");
        Assert.InRange(server.RangeRequests, 3, 4);
    }

    [Fact]
    public void Slow_server_times_out()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        server.Inject(new FakeHubServer.Fault("/api/", Delay: TimeSpan.FromSeconds(3)));
        var watch = Stopwatch.StartNew();
        Assert.Contains("timed out", Assert.Throws<HubException>(() => ModelSources.Open("org/m", Options(timeout: TimeSpan.FromMilliseconds(300)))).Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public void Non_gguf_body_is_an_invalid_format_error()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = "<!DOCTYPE html><html>Sign in</html>"u8.ToArray() });
        var e = Assert.Throws<InvalidFileFormatException>(() => ModelSources.Open("org/m", Options()));
        Assert.Contains("not a GGUF file", e.Message);
        Assert.Contains("/resolve/", e.Message);
    }

    [Fact]
    public void Server_ignoring_range_still_works()
    {
        var bytes = BigVocabGguf(1000, out var local);
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = bytes });
        server.IgnoreRange = true;
        Assert.Equal(local.Tensors.Length, ModelSources.Open("org/m", Options()).Gguf!.Tensors.Length);
    }

    [Fact]
    public void Offline_never_touches_the_network()
    {
        server.AddRepo("org/m", new Dictionary<string, byte[]> { ["m.gguf"] = GgufFixtures.Llama().ToArray() });
        var e = Assert.Throws<VramFitException>(() => ModelSources.Open("org/m", Options() with { Offline = true }));
        Assert.Contains("--offline", e.Message);
        Assert.Throws<VramFitException>(() => ModelSources.Open("org/m", Options() with { Environment = k => k == "HF_HUB_OFFLINE" ? "1" : null }));
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("org/name", "org/name", "main", null)]
    [InlineData("org/name@v1.0", "org/name", "v1.0", null)]
    [InlineData("org/name-GGUF:sub/m-Q4_K_M.gguf", "org/name-GGUF", "main", "sub/m-Q4_K_M.gguf")]
    [InlineData("org/name@abc:m.gguf", "org/name", "abc", "m.gguf")]
    public void Parses_hub_specs(string text, string repo, string revision, string? file)
    {
        Assert.True(HubModelSpec.TryParse(text, out var spec));
        Assert.Equal(new HubModelSpec(repo, revision, file), spec);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("a/b/c")]
    [InlineData("org/name:../../etc/passwd")]
    [InlineData("./local.gguf")]
    public void Rejects_non_hub_specs(string text) => Assert.False(HubModelSpec.TryParse(text, out _));

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
