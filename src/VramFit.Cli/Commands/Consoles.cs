using Spectre.Console;

namespace VramFit.Cli.Commands;

/// <summary>
/// A Spectre console over a command's writer: ANSI and the terminal width when it is the real console,
/// plain text and a wide fixed width when it is a redirected or test writer.
/// </summary>
internal static class Consoles
{
    public static IAnsiConsole For(TextWriter writer)
    {
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            // interactive only on a terminal: simulate's progress bar needs it, redirected output must stay plain
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
            console.Profile.Width = 200;
        return console;
    }
}
