namespace VramFit.Sources.Hub;

/// <summary>
/// A forward-only stream over a remote file that fetches it in HTTP Range requests of growing size, so a
/// parser reads just the header: a safetensors header usually arrives in the first request, a GGUF header with
/// a 256k-token vocabulary in three or four.
/// </summary>
public sealed class HubRangeStream : Stream
{
    private readonly HubClient client;
    private readonly HubTarget target;
    private readonly int maxRange;
    private byte[] chunk = [];
    private long chunkStart;
    private long position;
    private int nextRange;

    internal HubRangeStream(HubClient client, Uri url, HubTarget target, int initialRange, int maxRange)
    {
        this.client = client;
        this.target = target;
        this.maxRange = Math.Max(initialRange, maxRange);
        Url = url;
        nextRange = Math.Max(1, initialRange);
        Fetch();
    }

    /// <summary>The file's URL.</summary>
    public Uri Url { get; }

    /// <summary>Total size of the remote file (from Content-Range).</summary>
    public long TotalLength { get; private set; }

    /// <summary>Range requests this stream has sent.</summary>
    public int RangeRequests { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException("forward-only stream; use TotalLength");

    public override long Position
    {
        get => position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || position >= TotalLength)
            return 0;
        if (position >= chunkStart + chunk.Length)
            Fetch();
        int available = (int)(chunkStart + chunk.Length - position);
        int n = Math.Min(available, buffer.Length);
        chunk.AsSpan((int)(position - chunkStart), n).CopyTo(buffer);
        position += n;
        return n;
    }

    private void Fetch()
    {
        var (data, total) = client.FetchRange(Url, position, nextRange, target);
        RangeRequests++;
        TotalLength = total;
        chunk = data;
        chunkStart = position;
        nextRange = (int)Math.Min((long)nextRange * 2, maxRange);
        if (data.Length == 0 && position < total)
            throw new HubException($"{Url}: empty response at offset {position} of {total}");
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
