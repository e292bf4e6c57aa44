using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using VramFit.Errors;
using VramFit.Units;

namespace VramFit.Hardware;

/// <summary>
/// The built-in accelerator catalog, embedded as <c>data/gpus/*.json</c> (each file
/// <c>{"accelerators": [...]}</c>, every entry citing its datasheet). Loaded once, on first use.
/// Lookups forgive case, spaces, hyphens and vendor words: "4090", "rtx4090", "NVIDIA GeForce RTX 4090",
/// "A100-80G" and "a100 80gb" all resolve.
/// </summary>
public static class AcceleratorCatalog
{
    /// <summary>Smallest size <see cref="Parse"/> accepts as a custom device; below it "16384" is surely meant as MiB.</summary>
    public const long MinimumCustomBytes = 256 * ByteSize.MiB;

    // The csproj names resources "VramFit.data." + the folder under data/ + file name; the folder separator
    // is the build machine's ('/' or '\').
    private const string ResourcePrefix = "VramFit.data.gpus";

    // Words that drivers and users put in front of the part name; dropping them lets "GeForce RTX 4090"
    // and "rtx 4090" meet.
    private static readonly string[] VendorWords = ["nvidia", "geforce", "tesla", "amd", "instinct", "radeon", "apple", "intel", "habana"];

    private static readonly Lazy<IReadOnlyList<Accelerator>> Entries = new(Load);
    private static readonly Lazy<FrozenDictionary<string, Accelerator>> ByKey = new(BuildIndex);

    /// <summary>Every catalog entry, in file order (datacenter NVIDIA first).</summary>
    public static IReadOnlyList<Accelerator> All => Entries.Value;

    /// <summary>Entries of one vendor.</summary>
    public static IReadOnlyList<Accelerator> ByVendor(AcceleratorVendor vendor) => All.Where(a => a.Vendor == vendor).ToList();

    /// <summary>Parses a vendor name ("nvidia", "AMD", "apple", "intel").</summary>
    public static AcceleratorVendor ParseVendor(string text)
    {
        var key = (text ?? "").Trim();
        foreach (var v in Enum.GetValues<AcceleratorVendor>())
            if (string.Equals(v.ToString(), key, StringComparison.OrdinalIgnoreCase))
                return v;
        throw new InvalidSettingException("vendor", $"unknown vendor '{text}' (use nvidia, amd, apple, intel or other)");
    }

    /// <summary>Finds an entry by id, name or alias, ignoring case, spaces, punctuation and vendor words; null when absent.</summary>
    public static Accelerator? TryFind(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        var index = ByKey.Value;
        foreach (var key in Keys(name))
            if (index.TryGetValue(key, out var hit))
                return hit;
        return null;
    }

    /// <summary>Like <see cref="TryFind"/>, but throws <see cref="CatalogLookupException"/> naming close matches.</summary>
    public static Accelerator Find(string name) => TryFind(name) ?? throw NotFound(name, sizeHint: false);

    /// <summary>
    /// Reads a <c>--gpu</c> value: a catalog name, or a memory size ("24GiB", "80GB", "16384MiB" — the
    /// <see cref="ByteSize.Parse"/> rules) giving a custom device whose bandwidth and throughput are 0 (unknown).
    /// </summary>
    public static Accelerator Parse(string spec)
    {
        var text = (spec ?? "").Trim();
        if (text.Length == 0)
            throw new InvalidSettingException("gpu", "empty GPU name or size (examples: h100-sxm, rtx-4090, 24GiB)");
        if (TryFind(text) is { } known)
            return known;
        if (!ByteSize.TryParse(text, out var size))
            throw NotFound(text, sizeHint: true);
        if (size.Bytes < MinimumCustomBytes)
            throw new InvalidSettingException("gpu", $"'{text}' is {size}, too small for a GPU (sizes without a unit are bytes: did you mean {text}MiB?)");
        return Custom(size.Bytes);
    }

    /// <summary>A device known only by its memory: id "custom-24GiB", throughput unknown (0).</summary>
    public static Accelerator Custom(long memoryBytes, string? name = null)
    {
        if (memoryBytes <= 0)
            throw new InvalidSettingException("gpu", "memory must be positive");
        var label = new ByteSize(memoryBytes).ToString();
        return new Accelerator
        {
            Id = "custom-" + label.Replace(" ", "", StringComparison.Ordinal),
            Name = name ?? $"Custom {label} device",
            Vendor = AcceleratorVendor.Other,
            MemoryBytes = memoryBytes,
            MemoryBandwidthGBps = 0,
            Note = "Custom size: bandwidth and throughput unknown.",
        };
    }

    /// <summary>Up to <paramref name="count"/> catalog ids that look most like <paramref name="name"/>.</summary>
    public static IReadOnlyList<string> CloseMatches(string name, int count = 3)
    {
        var key = Normalize(name);
        return All
            .Select(a => (a.Id, Score: new[] { a.Id, a.Name }.Concat(a.Aliases).Max(n => TextSimilarity.LongestCommonRun(key, Normalize(n)))))
            .Where(p => p.Score > 0)
            .OrderByDescending(p => p.Score)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .Take(count)
            .Select(p => p.Id)
            .ToList();
    }

    private static CatalogLookupException NotFound(string name, bool sizeHint)
    {
        var close = CloseMatches(name);
        var suggestion = close.Count > 0 ? $"; close matches: {string.Join(", ", close)}" : "";
        var what = sizeHint ? "is neither a catalog GPU nor a size (like 24GiB)" : "is not in the GPU catalog";
        return new CatalogLookupException($"'{name}' {what}{suggestion} (see 'vramfit gpus')");
    }

    /// <summary>Lower-case letters and digits only; "80GB"/"80GiB" become "80g" so memory suffixes meet.</summary>
    internal static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
            if (char.IsAsciiLetterOrDigit(c))
                sb.Append(c);
        var s = sb.ToString();
        var outText = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            outText.Append(s[i]);
            if (char.IsAsciiDigit(s[i]) && i + 1 < s.Length && s[i + 1] == 'g')
            {
                // skip the "b" of "gb" or "ib" of "gib" after a digit
                if (i + 2 < s.Length && s[i + 2] == 'b') { outText.Append('g'); i += 2; }
                else if (i + 3 < s.Length && s[i + 2] == 'i' && s[i + 3] == 'b') { outText.Append('g'); i += 3; }
            }
        }

        return outText.ToString();
    }

    private static IEnumerable<string> Keys(string name)
    {
        var full = Normalize(name);
        yield return full;
        var stripped = StripVendorWords(full);
        if (stripped != full && stripped.Length > 0)
            yield return stripped;
    }

    private static string StripVendorWords(string key)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var w in VendorWords)
                if (key.StartsWith(w, StringComparison.Ordinal) && key.Length > w.Length)
                {
                    key = key[w.Length..];
                    changed = true;
                }
        }

        return key;
    }

    private static FrozenDictionary<string, Accelerator> BuildIndex()
    {
        var map = new Dictionary<string, Accelerator>(StringComparer.Ordinal);
        // Ids first, then names, then aliases: an id always wins over someone else's alias.
        foreach (var a in All)
            map.TryAdd(Normalize(a.Id), a);
        foreach (var a in All)
            foreach (var key in Keys(a.Name))
                map.TryAdd(key, a);
        foreach (var a in All)
            foreach (var alias in a.Aliases)
                foreach (var key in Keys(alias))
                    map.TryAdd(key, a);
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static IReadOnlyList<Accelerator> Load()
    {
        var assembly = typeof(AcceleratorCatalog).Assembly;
        var list = new List<Accelerator>();
        var names = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.Length > ResourcePrefix.Length && n[ResourcePrefix.Length] is '/' or '\\' or '.' && n.EndsWith(".json", StringComparison.Ordinal))
            .OrderBy(n => FileOrder(n))
            .ThenBy(n => n, StringComparer.Ordinal);
        foreach (var name in names)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var doc = JsonDocument.Parse(stream);
            foreach (var e in doc.RootElement.GetProperty("accelerators").EnumerateArray())
                list.Add(Read(e, name));
        }

        return list;
    }

    // Datacenter parts first: that is what most users look for.
    private static int FileOrder(string resource) =>
        resource.Contains("nvidia-datacenter", StringComparison.Ordinal) ? 0
        : resource.Contains("nvidia", StringComparison.Ordinal) ? 1
        : 2;

    private static Accelerator Read(JsonElement e, string resource)
    {
        string id = e.GetProperty("id").GetString()!;
        string Where() => $"{resource}: accelerator '{id}'";
        double Number(string field) => e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
        string? Text(string field) => e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var memory = ByteSize.Parse(Text("memory") ?? throw new InvalidOperationException($"{Where()} has no memory"), "memory");
        long? workingSet = Text("gpu_working_set") is { } ws ? ByteSize.Parse(ws, "gpu_working_set").Bytes : null;
        long? cudaTotal = Text("cuda_memory") is { } cm ? ByteSize.Parse(cm, "cuda_memory").Bytes : null;
        return new Accelerator
        {
            Id = id,
            Name = Text("name") ?? id,
            Vendor = ParseVendor(Text("vendor") ?? "other"),
            MemoryBytes = memory.Bytes,
            MemoryBandwidthGBps = Number("bandwidth_gbps"),
            Fp16Tflops = Number("fp16_tflops"),
            Bf16Tflops = Number("bf16_tflops"),
            Fp8Tflops = Number("fp8_tflops"),
            Int8Tops = Number("int8_tops"),
            Fp4Tflops = Number("fp4_tflops"),
            Interconnect = Text("interconnect"),
            InterconnectGBps = Number("interconnect_gbps"),
            ComputeCapability = Text("compute_capability"),
            UnifiedMemory = e.TryGetProperty("unified_memory", out var u) && u.ValueKind == JsonValueKind.True,
            GpuWorkingSetBytes = workingSet,
            CudaTotalBytes = cudaTotal,
            Source = Text("source"),
            Note = Text("note"),
            Aliases = e.TryGetProperty("aliases", out var a) ? a.EnumerateArray().Select(x => x.GetString()!).ToList() : [],
        };
    }
}
