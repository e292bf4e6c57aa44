using System.Net;
using VramFit.Errors;

namespace VramFit.Web;

/// <summary>Where <c>vramfit serve</c> listens and the limits it enforces.</summary>
public sealed record WebOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 5005;

    /// <summary>Must be set to listen on anything but loopback.</summary>
    public bool AllowRemote { get; init; }

    /// <summary>Largest request body (uploaded config.json / GGUF header / safetensors index).</summary>
    public long MaxBodyBytes { get; init; } = 16L << 20;

    /// <summary>Wall-clock limit for one API request's computation.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Checks the host: loopback unless <see cref="AllowRemote"/>.</summary>
    public bool IsLoopback()
    {
        if (Host is "localhost")
            return true;
        if (!IPAddress.TryParse(Host, out var address))
            throw new InvalidSettingException("host", $"'{Host}' is not an IP address or localhost");
        if (!IPAddress.IsLoopback(address) && !AllowRemote)
            throw new InvalidSettingException("host", $"{Host} is not a loopback address; pass --allow-remote to serve other machines (the API has no authentication)");
        if (Port is < 0 or > 65535)
            throw new InvalidSettingException("port", $"{Port} is not a TCP port");
        return IPAddress.IsLoopback(address);
    }
}
