namespace VramFit.Tests.Validation;

/// <summary>The case format's "blk.A..B." layer-range shorthand in override_tensor.</summary>
public class OverrideTensorShorthandTests
{
    [Theory]
    [InlineData(@"blk.14..47.ffn_(up|down|gate)_(ch|)exps=CPU", "blk.14.ffn_up_exps.weight", true)]
    [InlineData(@"blk.14..47.ffn_(up|down|gate)_(ch|)exps=CPU", "blk.47.ffn_down_exps.weight", true)]
    [InlineData(@"blk.14..47.ffn_(up|down|gate)_(ch|)exps=CPU", "blk.13.ffn_up_exps.weight", false)]
    [InlineData(@"blk\.14\.\.47\.ffn_", "blk.20.ffn_up_exps.weight", false)]
    [InlineData(@"\.ffn_.*_exps\.", "blk.3.ffn_gate_exps.weight", true)]
    public void Layer_range_shorthand_expands_to_the_layers_it_names(string pattern, string tensor, bool matches)
    {
        var expanded = VramFit.Validation.ValidationCaseReader.ExpandLayerRanges(pattern.Split('=')[0]);
        Assert.Equal(matches, System.Text.RegularExpressions.Regex.IsMatch(tensor, expanded));
    }
}
