using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VramFit.Errors;

namespace VramFit.Sources.Gguf;

/// <summary>
/// Split GGUF models: llama.cpp's <c>gguf-split</c> writes <c>prefix-00001-of-00003.gguf</c> …, each part a
/// complete GGUF whose tensors are a slice of the model; the first part carries the metadata. Keys and
/// the file-name format come from llama.cpp src/llama.cpp <c>llama_split_path</c> and
/// tools/gguf-split (LLM_KV_SPLIT_NO, LLM_KV_SPLIT_COUNT, LLM_KV_SPLIT_TENSORS_COUNT).
/// </summary>
public static partial class GgufSplits
{
    public const string IndexKey = "split.no";
    public const string CountKey = "split.count";
    public const string TensorsCountKey = "split.tensors.count";

    [GeneratedRegex(@"^(?<prefix>.*)-(?<no>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SplitName();

    /// <summary>Parses "<c>prefix-00002-of-00005.gguf</c>" into a 0-based part index and the part count.</summary>
    public static bool TryParseName(string fileName, out int index, out int count)
    {
        index = count = 0;
        var m = SplitName().Match(Path.GetFileName(fileName));
        if (!m.Success)
            return false;
        index = int.Parse(m.Groups["no"].Value, CultureInfo.InvariantCulture) - 1;
        count = int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
        return count >= 1 && index >= 0 && index < count;
    }

    /// <summary>The file name of part <paramref name="index"/> (0-based) of <paramref name="count"/>, given any part's name.</summary>
    public static string PartName(string anyPartName, int index, int count)
    {
        var m = SplitName().Match(anyPartName);
        if (!m.Success)
            throw new VramFitException($"'{anyPartName}' is not named like a split GGUF part (name-00001-of-00003.gguf)");
        return string.Create(CultureInfo.InvariantCulture, $"{m.Groups["prefix"].Value}-{index + 1:D5}-of-{count:D5}.gguf");
    }

    /// <summary>Paths of every part of the split model <paramref name="path"/> belongs to.</summary>
    internal static IReadOnlyList<string> PartPaths(string path, GgufFile header)
    {
        var name = Path.GetFileName(path);
        if (!TryParseName(name, out _, out int countFromName))
            throw new VramFitException($"{path}: split.count is {header.Metadata.GetLong(CountKey)} but the name is not 'name-00001-of-0000N.gguf'");
        long countFromHeader = header.Metadata.GetLong(CountKey) ?? countFromName;
        if (countFromHeader != countFromName)
            throw new InvalidFileFormatException("GGUF", 0, $"split.count {countFromHeader} disagrees with the file name ({countFromName} parts)", path);
        var dir = Path.GetDirectoryName(path) ?? "";
        return Enumerable.Range(0, countFromName).Select(i => Path.Combine(dir, PartName(name, i, countFromName))).ToList();
    }

    /// <summary>
    /// Merges the headers of every part, in order: metadata of the first part, tensors of all parts (each
    /// knows its part). Checks that the parts agree on the count and that tensor names are unique.
    /// </summary>
    public static GgufFile Merge(IReadOnlyList<GgufFile> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException("no parts", nameof(parts));
        if (parts.Count == 1)
            return parts[0];
        var first = parts[0];
        var tensors = ImmutableArray.CreateBuilder<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var partInfos = ImmutableArray.CreateBuilder<GgufPart>(parts.Count);
        for (int i = 0; i < parts.Count; i++)
        {
            var p = parts[i];
            string where = p.Parts[0].Path ?? $"part {i + 1}";
            long? no = p.Metadata.GetLong(IndexKey);
            long? count = p.Metadata.GetLong(CountKey);
            if (no is not null && no != i)
                throw new InvalidFileFormatException("GGUF", 0, $"split.no is {no}, expected {i} for part {i + 1} of {parts.Count}", where);
            if (count is not null && count != parts.Count)
                throw new InvalidFileFormatException("GGUF", 0, $"split.count is {count}, expected {parts.Count}", where);
            foreach (var t in p.Tensors)
            {
                if (!names.Add(t.Name))
                    throw new InvalidFileFormatException("GGUF", p.DataOffset, $"tensor '{t.Name}' appears in more than one split part", where);
                tensors.Add(t with { Part = i });
            }

            partInfos.Add(p.Parts[0]);
        }

        long? declared = first.Metadata.GetLong(TensorsCountKey);
        if (declared is not null && declared != tensors.Count)
            throw new InvalidFileFormatException("GGUF", 0, $"split.tensors.count is {declared} but the {parts.Count} parts hold {tensors.Count} tensors", first.Parts[0].Path);
        return new GgufFile(first.Version, first.Metadata, tensors.ToImmutable(), first.Alignment, partInfos.ToImmutable(), first.SkippedArrays);
    }
}
