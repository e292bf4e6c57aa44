namespace VramFit.Sources.Gguf;

/// <summary>Reads (or skips) GGUF metadata values, boxed the way <see cref="GgufMetadata"/> documents.</summary>
internal sealed class GgufMetadataReader
{
    private readonly GgufByteReader r;
    private readonly GgufReadOptions options;

    public GgufMetadataReader(GgufByteReader reader, GgufReadOptions options)
    {
        r = reader;
        this.options = options;
    }

    public GgufValueType ReadType(string what)
    {
        long offset = r.Position;
        uint id = r.ReadUInt32(what);
        if (!GgufValueTypes.IsDefined(id))
            throw r.Error($"{what}: unknown GGUF value type {id}", offset);
        return (GgufValueType)id;
    }

    public object ReadValue(GgufValueType type, string key, int depth) => type switch
    {
        GgufValueType.UInt8 => (long)r.ReadByte(key),
        GgufValueType.Int8 => (long)(sbyte)r.ReadByte(key),
        GgufValueType.UInt16 => (long)r.ReadUInt16(key),
        GgufValueType.Int16 => (long)(short)r.ReadUInt16(key),
        GgufValueType.UInt32 => (long)r.ReadUInt32(key),
        GgufValueType.Int32 => (long)(int)r.ReadUInt32(key),
        GgufValueType.UInt64 => r.ReadUInt64(key) is var u && u <= long.MaxValue ? (long)u : u,
        GgufValueType.Int64 => (long)r.ReadUInt64(key),
        GgufValueType.Float32 => (double)r.ReadSingle(key),
        GgufValueType.Float64 => r.ReadDouble(key),
        GgufValueType.Bool => r.ReadByte(key) != 0,
        GgufValueType.String => r.ReadString(r.ReadUInt64(key), options.MaxStringBytes, key),
        GgufValueType.Array => ReadArray(key, depth),
        _ => throw r.Error($"'{key}': unknown GGUF value type {(int)type}"),
    };

    private GgufArray ReadArray(string key, int depth)
    {
        var (elementType, count) = ReadArrayHeader(key, depth);
        // The list grows with what is really read, so a lying count fails at the end of the data, not in an allocation.
        var items = new List<object>((int)Math.Min(count, 4096));
        for (long i = 0; i < count; i++)
            items.Add(ReadValue(elementType, key, depth + 1));
        return new GgufArray(elementType.Name(), items);
    }

    /// <summary>Skips an array value, returning its element type and count; strings are skipped without decoding.</summary>
    public (GgufValueType ElementType, long Count) SkipArray(string key) => SkipArray(key, 0);

    private (GgufValueType ElementType, long Count) SkipArray(string key, int depth)
    {
        var (elementType, count) = ReadArrayHeader(key, depth);
        int size = elementType.FixedSize();
        if (size > 0)
        {
            r.Skip(count * size, key);
        }
        else if (elementType == GgufValueType.String)
        {
            r.SkipStrings(count, options.MaxStringBytes, key);
        }
        else
        {
            for (long i = 0; i < count; i++)
                SkipArray(key, depth + 1);
        }

        return (elementType, count);
    }

    private (GgufValueType ElementType, long Count) ReadArrayHeader(string key, int depth)
    {
        if (depth >= options.MaxArrayDepth)
            throw r.Error($"'{key}': arrays nested deeper than {options.MaxArrayDepth} levels");
        var elementType = ReadType(key);
        long offset = r.Position;
        ulong count = r.ReadUInt64(key);
        if (count > (ulong)options.MaxArrayCount)
            throw r.Error($"'{key}': array of {count} elements exceeds the limit of {options.MaxArrayCount}", offset);
        // Strings take at least their 8-byte length, nested arrays their 12-byte header.
        int minBytes = elementType switch
        {
            GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => elementType.FixedSize(),
        };
        if (r.Remaining is { } left && (long)count > left / minBytes)
            throw r.Error($"'{key}': array of {count} {elementType.Name()} elements cannot fit in the {left} bytes that remain", offset);
        return (elementType, (long)count);
    }
}
