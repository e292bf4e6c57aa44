using VramFit.Errors;
using VramFit.Models;
using VramFit.Numerics;
using VramFit.Sources;
using VramFit.Sources.Gguf;
using VramFit.Tests.Sources.Gguf;
using VramFit.Tests.Sources.Safetensors;

namespace VramFit.Tests.Sources.Local;

public sealed class ModelSourcesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vramfit-src-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private ModelSourceOptions Offline(Func<GgufMetadata, string?, ModelDescription>? translate = null) => new()
    {
        Offline = true,
        TranslateGguf = translate,
        HfCacheDirectory = Path.Combine(dir, "hf-cache"),
    };

    private void WriteLlamaFolder(string folder, int layers = 2)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), SafetensorsFixtures.LlamaConfig(layers, 128, 256, 4, 2, 300));
        SafetensorsFixtures.WriteFile(Path.Combine(folder, "model.safetensors"), SafetensorsFixtures.Llama(layers, 128, 256, 4, 2, 300));
    }

    [Fact]
    public void Gguf_file_without_translator_keeps_the_header_and_says_why_there_is_no_description()
    {
        var path = Path.Combine(dir, "tiny-Q4_K_M.gguf");
        GgufFixtures.Llama().WriteFile(path);
        var source = ModelSources.Open(path, Offline());
        Assert.Equal(ModelSourceKind.GgufFile, source.Kind);
        Assert.NotNull(source.Gguf);
        Assert.Same(source.Gguf!.Checkpoint, source.Checkpoint);
        Assert.Null(source.Description);
        Assert.Contains("no GGUF translator", Assert.ThrowsAny<VramFitException>(source.RequireDescription).Message);
    }

    [Fact]
    public void Gguf_file_goes_through_the_translator_and_gets_its_checkpoint()
    {
        var path = Path.Combine(dir, "m.gguf");
        GgufFixtures.Llama().WriteFile(path);
        string? seenName = null;
        var reference = SafetensorsFixtures.LlamaConfig(2, 256, 512, 4, 2, 64);
        var source = ModelSources.Open(path, Offline((metadata, name) =>
        {
            seenName = name;
            Assert.Equal(64, metadata.GetLong("tokenizer.vocab_size"));
            return VramFit.Sources.HfConfig.HfConfigReader.Parse(reference, name);
        }));
        Assert.Equal("tiny-llama", seenName);
        Assert.Same(source.Gguf!.Checkpoint, source.Description!.Checkpoint);
        Assert.Equal(Path.GetFullPath(path), source.Description.Source);
    }

    [Fact]
    public void Translator_errors_are_kept_not_thrown()
    {
        var path = Path.Combine(dir, "m.gguf");
        GgufFixtures.Llama().WriteFile(path);
        var source = ModelSources.Open(path, Offline((_, _) => throw new UnsupportedArchitectureException("llama", ["qwen3"])));
        Assert.IsType<UnsupportedArchitectureException>(source.DescriptionError);
        Assert.NotNull(source.Gguf);
    }

    [Fact]
    public void Folder_with_config_and_safetensors()
    {
        var folder = Path.Combine(dir, "Llama-Tiny");
        WriteLlamaFolder(folder);
        var source = ModelSources.Open(folder, Offline());
        Assert.Equal(ModelSourceKind.Folder, source.Kind);
        Assert.Equal("Llama-Tiny", source.Description!.Name);
        Assert.Equal(TensorInventory.ParameterCount(source.Description), source.Checkpoint!.LogicalParameters);
        Assert.Same(source.Checkpoint, source.Description.Checkpoint);

        var configOnly = ModelSources.Open(Path.Combine(folder, "config.json"), Offline());
        Assert.Equal(ModelSourceKind.ConfigFile, configOnly.Kind);
        Assert.Null(configOnly.Checkpoint);
        Assert.NotNull(configOnly.Description);

        var single = ModelSources.Open(Path.Combine(folder, "model.safetensors"), Offline());
        Assert.Equal(source.Checkpoint.TotalBytes, single.Checkpoint!.TotalBytes);
    }

    [Fact]
    public void Quantized_folder_carries_the_checkpoint_format()
    {
        var folder = Path.Combine(dir, "gptq");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"),
            SafetensorsFixtures.LlamaConfig(1, 128, 256, 4, 2, 300, """{"quant_method":"gptq","bits":4,"group_size":128}"""));
        SafetensorsFixtures.WriteFile(Path.Combine(folder, "model.safetensors"), SafetensorsFixtures.Gptq("model.layers.0.mlp.down_proj", 256, 128));
        var source = ModelSources.Open(folder, Offline());
        Assert.Equal(WeightFormatKind.Gptq, source.Description!.CheckpointFormat!.Kind);
        Assert.Equal("gptq", source.Checkpoint!.FileTypeName);
    }

    [Fact]
    public void Folder_of_gguf_files_ignores_projectors_and_later_split_parts_but_refuses_to_guess()
    {
        var folder = Path.Combine(dir, "ggufs");
        Directory.CreateDirectory(folder);
        GgufFixtures.Llama().WriteFile(Path.Combine(folder, "model-Q4_K_M.gguf"));
        new GgufWriter().Add("general.architecture", "clip").WriteFile(Path.Combine(folder, "mmproj-f16.gguf"));
        Assert.Equal(ModelSourceKind.Folder, ModelSources.Open(folder, Offline()).Kind);

        GgufFixtures.Llama().WriteFile(Path.Combine(folder, "model-Q8_0.gguf"));
        var e = Assert.Throws<VramFitException>(() => ModelSources.Open(folder, Offline()));
        Assert.Contains("2 GGUF models", e.Message);
        Assert.Contains("model-Q8_0.gguf", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Hugging_face_cache_snapshot_by_ref(bool viaHfHome)
    {
        const string sha = "abcdef0123456789abcdef0123456789abcdef01";
        var hub = Path.Combine(dir, viaHfHome ? "home/hub" : "hf-cache");
        var repo = Path.Combine(hub, "models--acme--Tiny-Llama");
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), sha);
        WriteLlamaFolder(Path.Combine(repo, "snapshots", sha));
        var options = viaHfHome
            ? new ModelSourceOptions { Offline = true, Environment = k => k == "HF_HOME" ? Path.Combine(dir, "home") : null }
            : Offline();

        var source = ModelSources.Open("acme/Tiny-Llama", options);
        Assert.Equal(ModelSourceKind.HfCache, source.Kind);
        Assert.Equal("acme/Tiny-Llama", source.Description!.Name);
        Assert.NotNull(source.Checkpoint);
        Assert.Equal(ModelSourceKind.HfCache, ModelSources.Open($"acme/Tiny-Llama@{sha}", options).Kind);
        Assert.Equal(ModelSourceKind.HfCache, ModelSources.Open("acme/Tiny-Llama:config.json", options).Kind);
    }

    [Fact]
    public void Catalog_ids_resolve_offline()
    {
        var id = ModelCatalog.All[0].Id;
        var source = ModelSources.Open(id, Offline());
        Assert.Equal(ModelSourceKind.Catalog, source.Kind);
        Assert.NotNull(source.Description);
    }

    [Theory]
    [InlineData("./missing.gguf", "no such file")]
    [InlineData("/nowhere/config.json", "no such file")]
    [InlineData("", "empty")]
    public void Missing_paths_are_one_line_errors(string spec, string expected) =>
        Assert.Contains(expected, Assert.ThrowsAny<VramFitException>(() => ModelSources.Open(spec, Offline())).Message);

    [Fact]
    public void Unknown_plain_names_are_catalog_errors() =>
        Assert.Throws<CatalogLookupException>(() => ModelSources.Open("definitely-not-a-model", Offline()));
}
