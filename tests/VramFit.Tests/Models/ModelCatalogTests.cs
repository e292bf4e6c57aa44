using VramFit.Models;

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
