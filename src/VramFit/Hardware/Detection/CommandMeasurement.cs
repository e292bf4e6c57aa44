using System.ComponentModel;
using System.Diagnostics;
using VramFit.Errors;

namespace VramFit.Hardware.Detection;

/// <summary>
/// Runs a command and measures the device memory its process tree uses (the library side of
/// <c>vramfit measure -- cmd …</c>). The command inherits the console; nothing is started when the probe
/// cannot see a GPU.
/// </summary>
public static class CommandMeasurement
{
    /// <summary>
    /// How long a command gets to exit by itself after Ctrl-C before its tree is killed. Kept under
    /// System.CommandLine's ProcessTerminationTimeout (2 s by default), after which the CLI process is
    /// ended and the report would be lost.
    /// </summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts <paramref name="command"/> (program and arguments), samples every <paramref name="interval"/>
    /// until it exits or <paramref name="cancellation"/> fires (Ctrl-C), and returns the measurement.
    /// Throws <see cref="VramFitException"/> before starting anything when the probe finds no GPU.
    /// </summary>
    public static async Task<MemoryMeasurement> RunAsync(IReadOnlyList<string> command, TimeSpan interval, IGpuProbe probe, IProcessTree tree, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
            throw new InvalidSettingException("command", "nothing to run (usage: vramfit measure -- <command> [args…])");
        var sampler = new MemorySampler(probe, tree);
        var baseline = sampler.Snapshot();
        if (!baseline.Available)
            throw new VramFitException($"measuring needs an NVIDIA driver: {baseline.Problem}; nothing was run");
        if (baseline.Gpus.Count == 0)
            throw new VramFitException($"{baseline.Backend} reports no GPU; nothing was run");

        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var arg in command.Skip(1))
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new VramFitException($"could not start '{command[0]}'");
        }
        catch (Win32Exception e)
        {
            throw new VramFitException($"could not start '{command[0]}': {e.Message}");
        }

        using (process)
        {
            var clock = MemorySampler.StartClock();
            var exited = process.WaitForExitAsync(CancellationToken.None);
            var samples = await sampler.SampleUntilAsync(process.Id, exited, interval, clock, cancellation).ConfigureAwait(false);
            bool cancelled = cancellation.IsCancellationRequested && !exited.IsCompleted;
            if (cancelled)
            {
                // Ctrl-C reached the whole foreground process group; give the command time to shut down, then stop it.
                await Task.WhenAny(exited, Task.Delay(GracePeriod, CancellationToken.None)).ConfigureAwait(false);
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
            }

            return MemorySampler.Summarize(baseline, samples, process.HasExited && !cancelled ? process.ExitCode : null, cancelled);
        }
    }
}
