using VramFit.Units;

namespace VramFit.Cli.Rendering;

/// <summary>
/// Shows the bytes read from the Hugging Face Hub on one self-overwriting stderr line, only when stderr is a
/// terminal (scripts and tests see nothing). Reports arrive on the reading thread, synchronously.
/// </summary>
internal sealed class DownloadProgress : IProgress<long>, IDisposable
{
    private readonly TextWriter? writer;
    private long lastShown = -1;
    private bool shown;

    private DownloadProgress(TextWriter? writer) => this.writer = writer;

    /// <summary>A progress line on <paramref name="error"/> when it is the real, unredirected console.</summary>
    public static DownloadProgress For(TextWriter error) =>
        new(ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected ? error : null);

    public void Report(long value)
    {
        // a line per 256 KiB is enough to see it move; range reads come in 1–4 MiB pieces
        if (writer is null || value - lastShown < 256 * 1024)
            return;
        lastShown = value;
        shown = true;
        writer.Write($"\rreading model headers from the Hub: {new ByteSize(value)}   ");
    }

    public void Dispose()
    {
        if (shown)
            writer!.WriteLine();
    }
}
