using VramFit.Sources.Hub;

namespace VramFit.Sources.Local;

/// <summary>
/// The local Hugging Face cache as huggingface_hub lays it out (file_download.py, constants.py):
/// <c>{HF_HUB_CACHE}/models--{org}--{name}/refs/{revision}</c> holds a commit hash, and
/// <c>snapshots/{hash}/</c> the files. HF_HUB_CACHE defaults to <c>{HF_HOME}/hub</c>, HF_HOME to
/// <c>$XDG_CACHE_HOME/huggingface</c> or <c>~/.cache/huggingface</c>.
/// </summary>
public static class HfCache
{
    /// <summary>The hub cache folder for these options (not checked for existence).</summary>
    public static string Root(ModelSourceOptions options)
    {
        if (options.HfCacheDirectory is { Length: > 0 } explicitDir)
            return explicitDir;
        var env = options.Env;
        if (env("HF_HUB_CACHE") is { Length: > 0 } hubCache)
            return hubCache;
        if (env("HUGGINGFACE_HUB_CACHE") is { Length: > 0 } legacy)
            return legacy;
        if (env("HF_HOME") is { Length: > 0 } home)
            return Path.Combine(home, "hub");
        var cacheHome = env("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cacheHome, "huggingface", "hub");
    }

    /// <summary>The model's folder name in the cache ("models--org--name").</summary>
    public static string RepoFolderName(string repo) => "models--" + repo.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Finds the snapshot folder of <paramref name="spec"/>'s revision (a ref name or a commit hash).</summary>
    public static bool TryResolve(string root, HubModelSpec spec, out string snapshot)
    {
        snapshot = "";
        var repoDir = Path.Combine(root, RepoFolderName(spec.Repo));
        if (!Directory.Exists(repoDir))
            return false;
        var refFile = Path.Combine(repoDir, "refs", spec.Revision);
        string? commit = null;
        if (!spec.Revision.Contains("..", StringComparison.Ordinal) && File.Exists(refFile))
        {
            try
            {
                commit = File.ReadAllText(refFile).Trim();
            }
            catch (IOException)
            {
                return false;
            }
        }
        else if (IsCommitHash(spec.Revision))
        {
            commit = spec.Revision;
        }

        if (commit is null || !IsCommitHash(commit))
            return false;
        var dir = Path.Combine(repoDir, "snapshots", commit);
        if (!Directory.Exists(dir))
            return false;
        snapshot = dir;
        return true;
    }

    private static bool IsCommitHash(string s) => s.Length == 40 && s.All(char.IsAsciiHexDigitLower);
}
