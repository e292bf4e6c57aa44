using System.Net;
using System.Text;
using System.Text.Json;
using VramFit.Errors;
using VramFit.Web;

namespace VramFit.Tests.Web;

public class ApiTests(WebFixture web) : IClassFixture<WebFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string path)
    {
        using var response = await web.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc.RootElement.Clone());
    }

    [Fact]
    public async Task Estimate_gives_the_same_numbers_as_the_library()
    {
        var (status, body) = await Get("/api/estimate?model=meta-llama/Llama-3.1-8B&gpu=24GiB&context=8192");
        Assert.Equal(HttpStatusCode.OK, status);
        var direct = new VramFit.Engines.EstimateInput { Model = "meta-llama/Llama-3.1-8B", Gpu = "24GiB", Context = "8192" }.Run();
        Assert.Equal(direct.Devices[0].TotalBytes, body.GetProperty("totalBytes").GetInt64());
        Assert.True(body.GetProperty("fits").GetBoolean());
    }

    [Fact]
    public async Task Rule_of_thumb_rides_along_when_asked()
    {
        var (_, body) = await Get("/api/estimate?model=Llama-3.1-8B&method=rule-of-thumb");
        Assert.Equal("rule-of-thumb", body.GetProperty("ruleOfThumb").GetProperty("engine").GetString());
    }

    [Fact]
    public async Task Curve_rises_with_context_and_reports_capacity()
    {
        var (status, body) = await Get("/api/curve?model=Llama-3.1-8B&gpu=24GiB&points=8&max=131072");
        Assert.Equal(HttpStatusCode.OK, status);
        var totals = body.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("totalBytes").GetInt64()).ToList();
        Assert.Equal(8, totals.Count);
        Assert.Equal(totals.Order().ToList(), totals);
        Assert.Equal(24L << 30, body.GetProperty("capacityBytes").GetInt64());
        Assert.False(body.GetProperty("points").EnumerateArray().Last().GetProperty("fits").GetBoolean());
    }

    [Fact]
    public async Task Inspect_describes_a_catalog_model()
    {
        var (status, body) = await Get("/api/inspect?model=Qwen/Qwen3-30B-A3B");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("qwen3_moe", body.GetProperty("architecture").GetString());
        Assert.True(body.GetProperty("activeParameters").GetInt64() < body.GetProperty("parameters").GetInt64() / 5);
    }

    [Fact]
    public async Task Plan_ranks_options_that_fit()
    {
        var (status, body) = await Get("/api/plan?model=meta-llama/Llama-3.1-70B&gpu=rtx-4090&gpus=2&context=8192&top=5");
        Assert.Equal(HttpStatusCode.OK, status);
        var options = body.GetProperty("options").EnumerateArray().ToList();
        Assert.NotEmpty(options);
        Assert.All(options, o => Assert.False(string.IsNullOrEmpty(o.GetProperty("launchCommand").GetString())));
    }

    [Fact]
    public async Task Simulate_compares_the_three_policies_on_the_same_requests()
    {
        var (status, body) = await Get("/api/simulate?model=meta-llama/Llama-3.1-8B&gpu=h100-sxm&engine=vllm&rate=4&requests=300");
        Assert.Equal(HttpStatusCode.OK, status);
        var runs = body.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["static", "dynamic", "continuous"], runs.Select(r => r.GetProperty("policy").GetString()));
        Assert.All(runs, r => Assert.Equal(300, r.GetProperty("completed").GetInt32() + r.GetProperty("rejected").GetInt32()));
    }

    [Fact]
    public async Task Catalog_endpoints_list_models_and_engines()
    {
        var (_, models) = await Get("/api/models");
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("id").GetString() == "meta-llama/Llama-3.1-8B");
        var (_, gpus) = await Get("/api/gpus");
        Assert.Contains(gpus.EnumerateArray(), g => g.GetProperty("id").GetString() == "h100-sxm");
        var (_, engines) = await Get("/api/engines");
        Assert.Contains(engines.EnumerateArray(), e => e.GetProperty("id").GetString() == "transformers");
    }

    [Fact]
    public async Task An_uploaded_config_is_estimated_and_inspected()
    {
        var config = VramFit.Models.ModelCatalog.Find("meta-llama/Llama-3.1-8B").Config.GetRawText();
        using var estimate = await web.Client.PostAsync("/api/estimate?model=my-upload&context=4096", new StringContent(config, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, estimate.StatusCode);
        Assert.Contains("\"model\": \"my-upload\"", await estimate.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var inspect = await web.Client.PostAsync("/api/inspect", new StringContent(config, Encoding.UTF8, "application/json"));
        Assert.Contains("8030261248", await inspect.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var bad = await web.Client.PostAsync("/api/inspect", new StringContent("{\"model_type\": \"llama\"", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task The_head_of_a_gguf_file_is_enough_for_an_estimate()
    {
        var bytes = VramFit.Tests.Sources.Gguf.GgufFixtures.Llama(layers: 2, hidden: 256, vocab: 64).ToArray();
        var file = VramFit.Sources.Gguf.GgufReader.Read(new MemoryStream(bytes));
        var head = bytes[..(int)file.DataOffset];
        using var content = new ByteArrayContent(head);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await web.Client.PostAsync($"/api/estimate?model=tiny.gguf&engine=llama.cpp&gpu=8GiB&fileSize={bytes.Length}", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        long weights = doc.RootElement.GetProperty("gpus").EnumerateArray().Concat(doc.RootElement.GetProperty("host").EnumerateArray()).Sum(d => d.GetProperty("weightBytes").GetInt64());
        Assert.Equal(file.Checkpoint.TotalBytes, weights);
        using var junk = new ByteArrayContent([1, 2, 3, 4, 5, 6, 7, 8]);
        junk.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var bad = await web.Client.PostAsync("/api/estimate?model=x.gguf&engine=llama.cpp", junk);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_config_with_safetensors_headers_is_estimated_from_the_exact_tensors()
    {
        var tensors = VramFit.Tests.Sources.Safetensors.SafetensorsFixtures.Llama(2, 256, 512, 4, 2, 64);
        var header = VramFit.Tests.Sources.Safetensors.SafetensorsFixtures.Header(tensors, null, out long dataLength);
        string headerJson = System.Text.Encoding.UTF8.GetString(header, 8, header.Length - 8);
        string config = VramFit.Tests.Sources.Safetensors.SafetensorsFixtures.LlamaConfig(2, 256, 512, 4, 2, 64);
        string bundle = $"{{\"config\": {config}, \"safetensors\": [{{\"name\": \"model.safetensors\", \"size\": {header.Length + dataLength}, \"header\": {JsonSerializer.Serialize(headerJson)}}}]}}";
        using var response = await web.Client.PostAsync("/api/inspect", new StringContent(bundle, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(dataLength, doc.RootElement.GetProperty("weightBytes").GetInt64());
        using var lying = await web.Client.PostAsync("/api/inspect", new StringContent(bundle.Replace($"\"size\": {header.Length + dataLength}", "\"size\": 10", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, lying.StatusCode);
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_without_reading_them()
    {
        using var big = new ByteArrayContent(new byte[17 << 20]);
        try
        {
            using var response = await web.Client.PostAsync("/api/inspect", big);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // Kestrel answered 413 and closed the connection while the client was still sending: refused either way
        }

        var (status, _) = await Get("/api/estimate?model=Llama-3.1-8B");
        Assert.Equal(HttpStatusCode.OK, status); // and the server is still fine
    }

    [Theory]
    [InlineData("/api/estimate")]
    [InlineData("/api/estimate?model=nope/nothing")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&gpus=zero")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&gpus=100000")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&context=1e99")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&batch=-1")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&engine=deepspeed")]
    [InlineData("/api/estimate?model=Llama-3.1-8B&set=bogus=1")]
    [InlineData("/api/curve?model=Llama-3.1-8B&axis=heat")]
    [InlineData("/api/curve?model=Llama-3.1-8B&points=100000")]
    [InlineData("/api/inspect")]
    [InlineData("/api/plan?model=Llama-3.1-8B")]
    [InlineData("/api/plan?model=Llama-3.1-8B&gpu=24GiB&goal=speed")]
    [InlineData("/api/simulate?model=Llama-3.1-8B&gpu=24GiB")]
    [InlineData("/api/simulate?model=Llama-3.1-8B&gpu=h100-sxm&requests=1000000")]
    [InlineData("/api/simulate?model=Llama-3.1-8B&gpu=h100-sxm&rate=-1")]
    [InlineData("/api/simulate?model=Llama-3.1-8B&gpu=h100-sxm&promptLen=zipf:3")]
    public async Task Bad_input_is_a_400_with_a_message(string path)
    {
        var (status, body) = await Get(path);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
    }

    [Fact]
    public void A_non_loopback_host_needs_an_explicit_flag()
    {
        Assert.Throws<InvalidSettingException>(() => new WebOptions { Host = "0.0.0.0" }.IsLoopback());
        Assert.False(new WebOptions { Host = "0.0.0.0", AllowRemote = true }.IsLoopback());
        Assert.True(new WebOptions().IsLoopback());
    }

    [Fact]
    public async Task Ten_thousand_randomized_requests_never_get_a_5xx()
    {
        var random = new Random(20261125);
        string[] models = ["meta-llama/Llama-3.1-8B", "Llama-3.1-8B", "", "x", "../../etc/passwd", "%00", new string('m', 600)];
        string[] gpus = ["24GiB", "80GB", "0", "-5GB", "1e30GB", "rtx", "", "16384", "NaN"];
        string[] numbers = ["1", "2", "0", "-1", "65536", "99999999999", "abc", "", "3.5", "1e9"];
        string[] contexts = ["8192", "32k", "0", "-1", "1e12", "128k", "k", "4096", "9999999999999"];
        string[] engines = ["transformers", "rule-of-thumb", "", "vllm", "llama.cpp", "nope"];
        string[] quants = ["", "nf4", "gptq-int4", "awq", "fp8", "int8", "q4_k", "bogus", "gptq-int7"];
        string[] kvs = ["", "bf16", "int4", "fp8", "q8_0", "??"];
        string[] attentions = ["", "eager", "sdpa", "flash", "zzz"];
        string[] sets = ["", "batch_size=2", "max_length=100", "prompt_tokens=50", "kv_bits=3", "logits=forward", "x", "=", "num_gpus=0"];
        string Pick(string[] values) => Uri.EscapeDataString(values[random.Next(values.Length)]);
        var failures = new List<string>();
        var paths = Enumerable.Range(0, 10_000).Select(i =>
            $"/api/estimate?model={Pick(models)}&gpu={Pick(gpus)}&gpus={Pick(numbers)}&context={Pick(contexts)}&batch={Pick(numbers)}"
            + $"&engine={Pick(engines)}&quant={Pick(quants)}&kvDtype={Pick(kvs)}&attention={Pick(attentions)}&set={Pick(sets)}").ToList();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (path, ct) =>
        {
            using var response = await web.Client.GetAsync(path, ct);
            if ((int)response.StatusCode >= 500)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                lock (failures)
                    failures.Add($"{(int)response.StatusCode} {path}: {body}");
            }
        });
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
    }
}
