namespace VramFit.Sources.Hub;

/// <summary>How <see cref="HubClient"/> talks to a Hugging Face Hub endpoint.</summary>
public sealed record HubOptions
{
    /// <summary>The public Hub; <c>HF_ENDPOINT</c> overrides it (huggingface_hub constants.ENDPOINT).</summary>
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Bearer token (<c>HF_TOKEN</c>) for gated and private models.</summary>
    public string? Token { get; init; }

    /// <summary>Limit for one request, body included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after 429 and 5xx responses and dropped connections.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First retry delay; doubled on each further retry unless the server sends Retry-After.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between retries, Retry-After included.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Size of the first Range request; later ones double. 1 MiB holds most safetensors headers whole,
    /// and a 256k-token GGUF header (≈ 6 MB) takes three or four requests.</summary>
    public int InitialRangeBytes { get; init; } = 1 << 20;

    /// <summary>Largest single Range request.</summary>
    public int MaxRangeBytes { get; init; } = 64 << 20;

    /// <summary>Receives the total bytes downloaded so far.</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>Replaces the HTTP stack (tests, proxies); null uses a default <see cref="HttpClientHandler"/>.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Reads <c>HF_ENDPOINT</c> and <c>HF_TOKEN</c> (and the legacy <c>HUGGING_FACE_HUB_TOKEN</c>).</summary>
    public static HubOptions FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var endpoint = environment("HF_ENDPOINT");
        var token = environment("HF_TOKEN") ?? environment("HUGGING_FACE_HUB_TOKEN");
        return new HubOptions
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : new Uri(endpoint.TrimEnd('/') + "/"),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
        };
    }
}
