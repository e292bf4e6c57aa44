using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace VramFit.Sources.Hub;

/// <summary>A file list of one revision of a Hub repository.</summary>
/// <param name="Sha">The commit the revision resolved to.</param>
/// <param name="Files">Repository-relative file names (siblings[].rfilename).</param>
public sealed record HubRevision(string Repo, string Revision, string? Sha, IReadOnlyList<string> Files);

/// <summary>
/// Reads from a Hugging Face Hub endpoint without downloading weights: the revision's file list
/// (<c>GET /api/models/{repo}/revision/{rev}</c>), small text files, and file headers through HTTP Range
/// requests (<c>GET /{repo}/resolve/{rev}/{file}</c>). Retries 429/5xx with exponential backoff honouring
/// Retry-After; every failure is a <see cref="HubException"/> with a one-line reason. Synchronous on purpose:
/// callers are a CLI and a planner that need the header before anything else can happen.
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient http;
    private readonly HubOptions options;
    private long downloaded;
    private int requests;

    public HubClient(HubOptions? options = null)
    {
        this.options = options ?? HubOptions.FromEnvironment();
        http = this.options.Handler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("vramfit", "1.0"));
    }

    public HubOptions Options => options;

    /// <summary>HTTP requests sent so far, retries included.</summary>
    public int RequestCount => requests;

    /// <summary>Body bytes received so far.</summary>
    public long BytesDownloaded => Interlocked.Read(ref downloaded);

    public void Dispose() => http.Dispose();

    /// <summary>The file list of <paramref name="revision"/> of <paramref name="repo"/>.</summary>
    public HubRevision GetRevision(string repo, string revision = HubModelSpec.DefaultRevision)
    {
        var url = new Uri(options.Endpoint, $"api/models/{repo}/revision/{Uri.EscapeDataString(revision)}");
        var what = new HubTarget(repo, revision, null);
        var json = GetText(url, what, 64L << 20);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string? sha = root.TryGetProperty("sha", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var files = new List<string>();
            if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
                foreach (var f in siblings.EnumerateArray())
                    if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("rfilename", out var n) && n.ValueKind == JsonValueKind.String)
                        files.Add(n.GetString()!);
            return new HubRevision(repo, revision, sha, files);
        }
        catch (JsonException)
        {
            throw new HubException($"{url}: the Hub answered with something that is not its JSON model info (is HF_ENDPOINT a Hub?)");
        }
    }

    /// <summary>A whole small file as text (config.json, index files).</summary>
    public string GetText(string repo, string revision, string file, long maxBytes = 16L << 20) =>
        GetText(ResolveUrl(repo, revision, file), new HubTarget(repo, revision, file), maxBytes);

    /// <summary>
    /// Opens a file for forward reading: the first Range request is sent now (so "not found" surfaces here),
    /// later ones as reading proceeds, each twice as large as the one before.
    /// </summary>
    public HubRangeStream OpenRead(string repo, string revision, string file) =>
        new(this, ResolveUrl(repo, revision, file), new HubTarget(repo, revision, file), options.InitialRangeBytes, options.MaxRangeBytes);

    /// <summary>The download URL of a file (huggingface_hub hf_hub_url).</summary>
    public Uri ResolveUrl(string repo, string revision, string file) =>
        new(options.Endpoint, $"{repo}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    private string GetText(Uri url, HubTarget what, long maxBytes)
    {
        using var exchange = Send(url, null, what);
        var response = exchange.Response;
        if (response.Content.Headers.ContentLength is long declared && declared > maxBytes)
            throw new HubException($"{url}: {declared} bytes is too large for a metadata file (limit {maxBytes})");
        using var body = new MemoryStream();
        var chunk = new byte[64 * 1024];
        var stream = exchange.Body();
        while (true)
        {
            int n = exchange.Read(stream, chunk, 0, chunk.Length);
            if (n == 0)
                break;
            if (body.Length + n > maxBytes)
                throw new HubException($"{url}: response exceeds {maxBytes} bytes, too large for a metadata file");
            body.Write(chunk, 0, n);
            Count(n);
        }

        if (response.Content.Headers.ContentLength is long expected && body.Length != expected)
            throw new HubException($"{url}: truncated response ({body.Length} of {expected} bytes)");
        return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>Fetches <paramref name="count"/> bytes from <paramref name="start"/> (fewer at the end of the file).</summary>
    internal (byte[] Data, long Total) FetchRange(Uri url, long start, int count, HubTarget what)
    {
        using var exchange = Send(url, (start, start + count - 1), what);
        var response = exchange.Response;
        long total;
        long skip = 0;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (range is not { From: long from, Length: long length } || from != start)
                throw new HubException($"{url}: the server answered a Range request with a bad Content-Range ('{range}')");
            total = length;
        }
        else
        {
            // A server that ignores Range sends the whole file: read what is needed and drop the connection.
            total = response.Content.Headers.ContentLength
                ?? throw new HubException($"{url}: the server ignores Range requests and sends no Content-Length");
            skip = start;
        }

        long expected = Math.Max(0, Math.Min(count, total - start));
        var data = new byte[expected];
        var stream = exchange.Body();
        var discard = skip > 0 ? new byte[64 * 1024] : null;
        while (skip > 0)
        {
            int n = exchange.Read(stream, discard!, 0, (int)Math.Min(skip, discard!.Length));
            if (n == 0)
                throw new HubException($"{url}: truncated response (ended {skip} bytes before offset {start})");
            skip -= n;
            Count(n);
        }

        int got = 0;
        while (got < expected)
        {
            int n = exchange.Read(stream, data, got, (int)expected - got);
            if (n == 0)
                throw new HubException($"{url}: truncated response ({got} of {expected} bytes from offset {start})");
            got += n;
            Count(n);
        }

        return (data, total);
    }

    private void Count(int n) => options.Progress?.Report(Interlocked.Add(ref downloaded, n));

    /// <summary>Sends a GET with retries; the returned exchange owns the response and the timeout.</summary>
    private HubExchange Send(Uri url, (long From, long To)? range, HubTarget what)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (options.Token is { } token)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (range is { } r)
                request.Headers.Range = new RangeHeaderValue(r.From, r.To);
            var timeout = new CancellationTokenSource(options.Timeout);
            HttpResponseMessage response;
            Interlocked.Increment(ref requests);
            try
            {
                response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                timeout.Dispose();
                throw TimedOut(url);
            }
            catch (HttpRequestException e)
            {
                timeout.Dispose();
                // an unknown host or a refused connection will not heal in seconds: say so at once (offline machines)
                bool permanent = e.InnerException is System.Net.Sockets.SocketException
                {
                    SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData
                        or System.Net.Sockets.SocketError.TryAgain or System.Net.Sockets.SocketError.NetworkUnreachable,
                };
                if (!permanent && attempt < options.MaxRetries)
                {
                    Thread.Sleep(Backoff(attempt, null));
                    continue;
                }

                throw new HubException($"cannot reach {options.Endpoint.Host}: {e.Message} (offline? use a catalog id, a local file, or --offline)", null, e);
            }

            if (response.IsSuccessStatusCode)
                return new HubExchange(response, timeout, this, url);
            timeout.Dispose();
            var status = response.StatusCode;
            if (IsRetryable(status) && attempt < options.MaxRetries)
            {
                var delay = Backoff(attempt, response.Headers.RetryAfter);
                response.Dispose();
                Thread.Sleep(delay);
                continue;
            }

            using (response)
                throw HubErrors.Describe(response, what, options, attempt);
        }
    }

    internal HubException TimedOut(Uri url) =>
        new($"{url}: no complete answer within {options.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (timed out)");

    // huggingface_hub retries the same set (utils/_http.py http_backoff: 429 and 5xx gateway errors).
    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        TimeSpan delay = retryAfter switch
        {
            { Delta: { } d } => d,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => options.RetryBaseDelay * Math.Pow(2, attempt),
        };
        if (delay < TimeSpan.Zero)
            delay = TimeSpan.Zero;
        return delay > options.MaxRetryDelay ? options.MaxRetryDelay : delay;
    }
}

/// <summary>What a request was for, so errors can name the model, the revision or the file.</summary>
internal sealed record HubTarget(string Repo, string Revision, string? File);
