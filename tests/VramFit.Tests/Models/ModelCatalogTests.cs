using VramFit.Models;
using VramFit.Numerics;

namespace VramFit.Tests.Models;

/// <summary>Every catalog entry translates, and its parameter count equals the published one exactly.</summary>
public class ModelCatalogTests
{
    public static TheoryData<string> AllIds() => new(ModelCatalog.All.Select(m => m.Id));

    public static TheoryData<string> PublishedIds() => new(ModelCatalog.All.Where(m => m.PublishedParameters is not null).Select(m => m.Id));

    [Fact]
    public void Catalog_has_at_least_45_models() => Assert.True(ModelCatalog.All.Count >= 45, $"{ModelCatalog.All.Count} models");

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Every_entry_translates(string id)
    {
        var model = ModelCatalog.Find(id).Describe();
        Assert.Equal(id, model.Name);
        Assert.NotEmpty(model.Layers);
        Assert.True(ModelProfile.Create(model).TotalWeightBytes > 0);
    }

    /// <summary>
    /// Language-model tensors (<see cref="TensorInventory"/>) plus the vision tower of multimodal checkpoints
    /// (and the extra stored elements a checkpoint documents: a duplicate tied head, an undescribed MTP module,
    /// FP8 block scales) equal the published count to the parameter.
    /// </summary>
    [Theory]
    [MemberData(nameof(PublishedIds))]
    public void Parameter_count_equals_the_published_count(string id)
    {
        var entry = ModelCatalog.Find(id);
        var model = entry.Describe();
        Assert.Equal(entry.PublishedParameters, ModelProfile.Create(model).Parameters + model.VisionEncoderParameters + entry.StoredExtraParameters);
    }

    /// <summary>
    /// DeepSeek-V3's extra stored elements are exactly its fp32 weight_scale_inv tensors: one per 128×128
    /// block of every FP8 matrix of the 61 layers and the NextN block; eh_proj, router, embeddings and heads
    /// are bf16.
    /// </summary>
    [Fact]
    public void DeepSeek_v3_extra_elements_are_its_fp8_block_scales()
    {
        var entry = ModelCatalog.Find("deepseek-ai/DeepSeek-V3");
        var profile = ModelProfile.Create(entry.Describe());
        long scales = profile.Tensors
            .Where(t => profile.Format.Packs(t) && t.Role != TensorRole.NextNProjection)
            .Sum(t => (t.Rows + 127) / 128 * ((t.Columns + 127) / 128) * t.Experts);
        Assert.Equal(entry.StoredExtraParameters, scales);
    }
}

/// <summary>Hub ids the catalog does not list by name: re-uploads and quantized checkpoints named after a catalog model.</summary>
public class CatalogDerivationTests
{
    [Fact]
    public void A_reupload_under_another_organisation_is_the_catalog_model()
    {
        var entry = ModelCatalog.TryFind("unsloth/Qwen3-8B")!;
        Assert.Equal("unsloth/Qwen3-8B", entry.Id);
        Assert.Equal("Qwen/Qwen3-8B", entry.DerivedFrom);
        var model = entry.Describe();
        Assert.Equal(ModelProfile.Create(ModelCatalog.Find("Qwen/Qwen3-8B").Describe()).TotalWeightBytes, ModelProfile.Create(model).TotalWeightBytes);
        Assert.StartsWith(ModelCatalog.DerivedSourcePrefix, model.Source);
    }

    [Theory]
    [InlineData("Qwen/Qwen2.5-7B-Instruct-AWQ", "Qwen/Qwen2.5-7B-Instruct", WeightFormatKind.Awq, 4)]
    [InlineData("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "meta-llama/Llama-3.1-8B", WeightFormatKind.Awq, 4)]
    [InlineData("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int8", "Qwen/Qwen2.5-7B-Instruct", WeightFormatKind.Gptq, 8)]
    [InlineData("unsloth/mistral-7b-instruct-v0.3-bnb-4bit", "mistralai/Mistral-7B-v0.3", WeightFormatKind.BnbNf4, 4)]
    [InlineData("unsloth/Llama-3.2-3B-Instruct-unsloth-bnb-4bit", "meta-llama/Llama-3.2-3B", WeightFormatKind.BnbNf4, 4)]
    [InlineData("RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic", "meta-llama/Llama-3.1-8B", WeightFormatKind.Fp8, 8)]
    [InlineData("neuralmagic/Meta-Llama-3.1-8B-Instruct-quantized.w4a16", "meta-llama/Llama-3.1-8B", WeightFormatKind.Gptq, 4)]
    [InlineData("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "meta-llama/Llama-3.1-8B", WeightFormatKind.Int8SmoothQuant, 8)]
    public void A_quantized_name_is_its_base_with_the_quantization_its_suffix_stands_for(string id, string baseId, WeightFormatKind kind, int bits)
    {
        var entry = ModelCatalog.TryFind(id)!;
        Assert.Equal(ModelCatalog.Find(baseId).Id, entry.DerivedFrom);
        var model = entry.Describe();
        Assert.Equal(id, model.Name);
        Assert.Equal(kind, model.CheckpointFormat!.Kind);
        Assert.Equal(bits, model.CheckpointFormat.Bits);
        Assert.Contains("assumed", model.Source, StringComparison.Ordinal);
    }

    /// <summary>A fine-tune that carries a catalog name keeps that model's architecture; the longest name between word boundaries wins.</summary>
    [Theory]
    [InlineData("NousResearch/Hermes-3-Llama-3.1-8B", "meta-llama/Llama-3.1-8B")]
    [InlineData("Skywork/Skywork-Reward-Llama-3.1-8B-v0.2", "meta-llama/Llama-3.1-8B")]
    [InlineData("someone/Qwen2.5-72B-Instruct-finetuned", "Qwen/Qwen2.5-72B-Instruct")]
    [InlineData("someone/my-Qwen2.5-7B-Instruct-sft-AWQ", "Qwen/Qwen2.5-7B-Instruct")]
    public void A_fine_tune_named_after_a_catalog_model_is_that_model(string id, string baseId)
    {
        var entry = ModelCatalog.TryFind(id)!;
        Assert.Equal(baseId, entry.DerivedFrom);
        Assert.Contains("assumed", entry.Describe().Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("someone/Qwen2.5-7B0-experiment")]   // a longer number is another model
    [InlineData("meta-llama/Llama-3.2-11B-Vision-Instruct")]
    public void A_name_inside_a_longer_word_or_number_is_not_a_match(string id) => Assert.Null(ModelCatalog.TryFind(id));

    [Fact]
    public void Qwen_fp8_uploads_use_block_scales_and_others_per_tensor_scales()
    {
        Assert.Equal(Fp8ScaleGranularity.Block128, ModelCatalog.TryFind("Qwen/Qwen2.5-7B-Instruct-FP8")!.Describe().CheckpointFormat!.Fp8Scales);
        Assert.Equal(Fp8ScaleGranularity.PerTensor, ModelCatalog.TryFind("neuralmagic/Meta-Llama-3-8B-Instruct-FP8")!.Describe().CheckpointFormat!.Fp8Scales);
    }

    [Theory]
    [InlineData("someone/unknown-model-AWQ")]
    [InlineData("AWQ")]
    [InlineData("-AWQ")]
    [InlineData("unsloth/")]
    [InlineData("unsloth/Qwen3-8B-FP8-AWQ")]   // the base is itself quantized: nothing is stacked on it
    public void Unknown_bases_and_bare_suffixes_are_not_found(string id) => Assert.Null(ModelCatalog.TryFind(id));
}
