using System.Text.RegularExpressions;

namespace VramFit.Sources.Hub;

/// <summary>A Hub model reference: <c>org/name[@revision][:file]</c>, e.g. <c>Qwen/Qwen3-8B-GGUF@main:Qwen3-8B-Q4_K_M.gguf</c>.</summary>
public sealed partial record HubModelSpec(string Repo, string Revision, string? File)
{
    /// <summary>The revision used when none is given (huggingface_hub DEFAULT_REVISION).</summary>
    public const string DefaultRevision = "main";

    // Hub repo names: letters, digits, '-', '_', '.'; one namespace segment (huggingface_hub validate_repo_id).
    [GeneratedRegex(@"^(?<repo>[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95})(@(?<rev>[^:@\s]+))?(:(?<file>[^\s:]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses a spec; false when the text is not shaped like <c>org/name[@rev][:file]</c>.</summary>
    public static bool TryParse(string text, out HubModelSpec spec)
    {
        spec = null!;
        var m = Pattern().Match((text ?? "").Trim());
        if (!m.Success || m.Groups["repo"].Value.Contains("..", StringComparison.Ordinal))
            return false;
        var file = m.Groups["file"].Success ? m.Groups["file"].Value : null;
        if (file is not null && (file.StartsWith('/') || file.Split('/').Any(s => s is ".." or ".")))
            return false;
        spec = new HubModelSpec(m.Groups["repo"].Value, m.Groups["rev"].Success ? m.Groups["rev"].Value : DefaultRevision, file);
        return true;
    }

    public override string ToString() =>
        Repo + (Revision == DefaultRevision ? "" : "@" + Revision) + (File is null ? "" : ":" + File);
}
