using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VramFit.Tests.Sources.Hub;

/// <summary>
/// A minimal Hugging Face Hub on 127.0.0.1 (raw TCP, HTTP/1.1, one request per connection): the revision API,
/// resolve URLs with Range support, and injectable faults. Raw sockets rather than HttpListener so a fault can
/// lie about Content-Length or hang up mid-body.
/// </summary>
internal sealed class FakeHubServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Dictionary<string, (string Sha, Dictionary<string, byte[]> Files)> repos = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Fault> faults = new();
    private readonly Task loop;

    public FakeHubServer()
    {
        listener.Start();
        loop = Task.Run(AcceptLoop);
    }

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Requests whose path contains "/resolve/" and that carried a Range header.</summary>
    public int RangeRequests => Requests.Count(r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.Range is not null);

    /// <summary>Requests per path must carry this bearer token (null: no auth).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Repos whose requests answer 403 GatedRepo unless the token matches.</summary>
    public HashSet<string> Gated { get; } = new(StringComparer.Ordinal);

    public bool IgnoreRange { get; set; }

    public sealed record Request(string Path, string? Range, string? Authorization);

    /// <summary>A one-shot fault for the next request whose path contains <paramref name="PathPart"/>.</summary>
    public sealed record Fault(string PathPart, int Status = 0, string? RetryAfter = null, bool Truncate = false, TimeSpan Delay = default, string? Body = null, bool ShortRange = false);

    public void AddRepo(string repo, IReadOnlyDictionary<string, byte[]> files, string sha = "0123456789abcdef0123456789abcdef01234567") =>
        repos[repo] = (sha, files.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));

    public void Inject(Fault fault) => faults.Enqueue(fault);

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHead(stream);
                if (head is null)
                    return;
                var lines = head.Split("\r\n");
                var path = Uri.UnescapeDataString(lines[0].Split(' ')[1]);
                var headers = lines.Skip(1).Where(l => l.Contains(':', StringComparison.Ordinal))
                    .ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)].Trim().ToLowerInvariant(), l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                headers.TryGetValue("range", out var range);
                headers.TryGetValue("authorization", out var auth);
                Requests.Enqueue(new Request(path, range, auth));
                await Respond(stream, path, range, auth);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<string?> ReadHead(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var buffer = new byte[1];
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(buffer) == 0)
                return null;
            sb.Append((char)buffer[0]);
        }

        return sb.ToString();
    }

    private async Task Respond(NetworkStream stream, string path, string? range, string? auth)
    {
        Fault? fault = null;
        if (faults.TryPeek(out var f) && path.Contains(f.PathPart, StringComparison.Ordinal) && faults.TryDequeue(out f))
            fault = f;
        if (fault is { Delay: var delay } && delay > TimeSpan.Zero)
            await Task.Delay(delay);
        if (fault is { Status: > 0 })
        {
            var extra = fault.RetryAfter is null ? "" : $"Retry-After: {fault.RetryAfter}\r\n";
            await Send(stream, fault.Status, Encoding.UTF8.GetBytes(fault.Body ?? "fault"), extra);
            return;
        }

        // Routes: /api/models/{org}/{name}/revision/{rev} and /{org}/{name}/resolve/{rev}/{file}
        var parts = path.TrimStart('/').Split('/');
        bool api = parts.Length >= 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "revision";
        bool resolve = parts.Length >= 5 && parts[2] == "resolve";
        if (!api && !resolve)
        {
            await Send(stream, 404, "not found"u8.ToArray());
            return;
        }

        string repo = api ? $"{parts[2]}/{parts[3]}" : $"{parts[0]}/{parts[1]}";
        string rev = api ? string.Join('/', parts[5..]) : parts[3];
        if (!repos.TryGetValue(repo, out var entry))
        {
            await Send(stream, 401, "{\"error\":\"Repository not found\"}"u8.ToArray(), "X-Error-Code: RepoNotFound\r\n");
            return;
        }

        string? token = auth?.StartsWith("Bearer ", StringComparison.Ordinal) == true ? auth[7..] : null;
        if (Gated.Contains(repo) && token != RequiredToken)
        {
            await Send(stream, token is null ? 401 : 403, "{\"error\":\"gated\"}"u8.ToArray(), "X-Error-Code: GatedRepo\r\n");
            return;
        }

        if (rev != "main" && rev != entry.Sha)
        {
            await Send(stream, 404, "{\"error\":\"Invalid rev id\"}"u8.ToArray(), "X-Error-Code: RevisionNotFound\r\n");
            return;
        }

        if (api)
        {
            var json = JsonSerializer.Serialize(new { id = repo, sha = entry.Sha, siblings = entry.Files.Keys.Select(k => new { rfilename = k }) });
            await Send(stream, 200, Encoding.UTF8.GetBytes(json), truncate: fault?.Truncate == true);
            return;
        }

        string file = string.Join('/', parts[4..]);
        if (!entry.Files.TryGetValue(file, out var body))
        {
            await Send(stream, 404, "{\"error\":\"Entry not found\"}"u8.ToArray(), "X-Error-Code: EntryNotFound\r\n");
            return;
        }

        if (fault?.Body is { } replacement)
            body = Encoding.UTF8.GetBytes(replacement);
        if (range is not null && !IgnoreRange)
        {
            var spec = range["bytes=".Length..].Split('-');
            long from = long.Parse(spec[0], CultureInfo.InvariantCulture);
            long to = Math.Min(long.Parse(spec[1], CultureInfo.InvariantCulture), body.Length - 1);
            if (from >= body.Length)
            {
                await Send(stream, 416, [], $"Content-Range: bytes */{body.Length}\r\n");
                return;
            }

            // ShortRange: a consistent Content-Length, but fewer bytes than Content-Range promises.
            long last = fault?.ShortRange == true ? from + (to - from) / 2 : to;
            await Send(stream, 206, body[(int)from..(int)(last + 1)], $"Content-Range: bytes {from}-{to}/{body.Length}\r\n", fault?.Truncate == true);
            return;
        }

        await Send(stream, 200, body, truncate: fault?.Truncate == true);
    }

    private static async Task Send(NetworkStream stream, int status, byte[] body, string extraHeaders = "", bool truncate = false)
    {
        var head = $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n{extraHeaders}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(truncate ? body.AsMemory(0, body.Length / 2) : body);
        await stream.FlushAsync();
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found",
        416 => "Range Not Satisfiable", 429 => "Too Many Requests", 500 => "Internal Server Error", 503 => "Service Unavailable",
        _ => "Status",
    };

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        stop.Dispose();
    }
}
