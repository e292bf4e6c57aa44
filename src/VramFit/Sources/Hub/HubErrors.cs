using System.Net;

namespace VramFit.Sources.Hub;

/// <summary>
/// One-line explanations of failed Hub responses. The Hub names the cause in the <c>X-Error-Code</c> header
/// (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo — huggingface_hub utils/_http.py
/// hf_raise_for_status); without it the status and the kind of request decide.
/// </summary>
internal static class HubErrors
{
    public static HubException Describe(HttpResponseMessage response, HubTarget what, HubOptions options, int retries)
    {
        var status = response.StatusCode;
        string code = response.Headers.TryGetValues("X-Error-Code", out var codes) ? codes.FirstOrDefault() ?? "" : "";
        string host = options.Endpoint.Host;
        string model = what.Repo;
        string at = what.Revision == HubModelSpec.DefaultRevision ? model : $"{model}@{what.Revision}";
        string tokenHint = options.Token is null
            ? "set HF_TOKEN to a token that can read it"
            : "the HF_TOKEN sent is not allowed to read it";
        string message = (status, code) switch
        {
            (_, "GatedRepo") or (HttpStatusCode.Forbidden, _) =>
                $"{model} is a gated model: accept its license at {options.Endpoint}{model} and {tokenHint} (HTTP {(int)status})",
            // The Hub answers 401 RepoNotFound for missing and for private repos alike.
            (_, "RepoNotFound") =>
                $"model {model} not found on {host} (a private model needs HF_TOKEN)",
            (_, "RevisionNotFound") =>
                $"revision '{what.Revision}' of {model} not found on {host}",
            (_, "EntryNotFound") =>
                $"file '{what.File}' not found in {at} on {host}",
            (HttpStatusCode.Unauthorized, _) =>
                $"{model}: the Hub requires authentication (gated or private model); {tokenHint} (HTTP 401)",
            (HttpStatusCode.NotFound, _) when what.File is not null =>
                $"file '{what.File}' not found in {at} on {host}",
            (HttpStatusCode.NotFound, _) =>
                $"model {model}{(what.Revision == HubModelSpec.DefaultRevision ? "" : $" or its revision '{what.Revision}'")} not found on {host}",
            (HttpStatusCode.RequestedRangeNotSatisfiable, _) =>
                $"{at}: '{what.File}' is shorter than its header says (HTTP 416)",
            (HttpStatusCode.TooManyRequests, _) =>
                $"{host} is rate-limiting requests (HTTP 429) and still was after {retries} retries; wait, or set HF_TOKEN for a higher limit",
            _ when (int)status >= 500 =>
                $"{host} failed with HTTP {(int)status} {response.ReasonPhrase} after {retries} retries",
            _ => $"{at}: HTTP {(int)status} {response.ReasonPhrase}",
        };
        return new HubException(message, status);
    }
}
