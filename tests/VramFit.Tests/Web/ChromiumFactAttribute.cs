namespace VramFit.Tests.Web;

/// <summary>
/// A fact that needs a Chromium binary (Debian's <c>chromium</c> package, installed by .ci/run). Without
/// one it reports skipped with the reason instead of failing on a developer machine.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static string? Executable { get; } = new[]
    {
        Environment.GetEnvironmentVariable("VRAMFIT_CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    }.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public ChromiumFactAttribute()
    {
        if (Executable is null)
            Skip = "no Chromium found (install Debian's chromium package or set VRAMFIT_CHROMIUM)";
    }
}
