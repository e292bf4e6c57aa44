using System.Net;
using VramFit.Errors;

namespace VramFit.Sources.Hub;

/// <summary>A Hub request failed: not found, refused, rate-limited past the retries, timed out, or cut short.</summary>
public sealed class HubException : VramFitException
{
    public HubException(string message, HttpStatusCode? status = null, Exception? inner = null)
        : base(message, inner ?? new InvalidOperationException(message))
    {
        Status = status;
    }

    /// <summary>The HTTP status of the failed response, when there was one.</summary>
    public HttpStatusCode? Status { get; }
}
