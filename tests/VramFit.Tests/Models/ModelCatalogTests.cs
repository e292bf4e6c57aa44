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
    /// (and a redundant stored copy of a tied head, where the checkpoint has one) equal the published count
    /// to the parameter.
    /// </summary>
    [Theory]
    [MemberData(nameof(PublishedIds))]
    public void Parameter_count_equals_the_published_count(string id)
    {
        var entry = ModelCatalog.Find(id);
        var model = entry.Describe();
        Assert.Equal(entry.PublishedParameters, ModelProfile.Create(model).Parameters + model.VisionEncoderParameters + entry.RedundantStoredParameters);
    }
}
