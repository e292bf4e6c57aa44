using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VramFit.Numerics;
using VramFit.Sources.Gguf;

namespace VramFit.Tests.Sources.Gguf;

/// <summary>Whatever the writer writes, the reader reads back: tensor bytes, elements, offsets and layers.</summary>
public class GgufRoundTripProperties
{
    private static readonly GgmlTypeTraits[] Types = GgmlTypes.All.ToArray();

    [Property(MaxTest = 200)]
    public Property Tensor_bytes_and_layers_round_trip(NonEmptyArray<(byte Type, byte Blocks, byte Rows, byte Layer)> specs, bool v2)
    {
        var w = new GgufWriter(version: v2 ? 2 : 3);
        var expected = new List<(string Name, long Bytes, long Elements, int Layer)>();
        for (int i = 0; i < Math.Min(specs.Get.Length, 40); i++)
        {
            var (typeIndex, blocks, rows, layer) = specs.Get[i];
            var t = Types[typeIndex % Types.Length];
            long ne0 = (long)(blocks % 8 + 1) * t.BlockSize;
            long ne1 = rows % 5 + 1;
            string name = $"blk.{layer}.t{i}.weight";
            w.AddTensor(name, t.Type, ne0, ne1);
            expected.Add((name, ne0 / t.BlockSize * t.TypeSize * ne1, ne0 * ne1, layer));
        }

        var file = GgufFixtures.Read(w.ToArray());
        var actual = file.Tensors.Select(t => (t.Name, t.Bytes, t.Elements, t.Layer)).ToList();
        bool aligned = file.Tensors.All(t => t.Offset % 32 == 0);
        return (actual.SequenceEqual(expected) && aligned && file.Checkpoint.TotalBytes == expected.Sum(e => e.Bytes)).ToProperty();
    }
}
