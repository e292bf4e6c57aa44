using System.CommandLine;
using Spectre.Console;
using VramFit.Cli.Commands;
using VramFit.Errors;

namespace VramFit.Cli;

/// <summary>
/// Builds the <c>vramfit</c> command tree and is the one boundary where library errors become a one-line
/// message and a non-zero exit code (stack traces only with <c>--verbose</c>).
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for a user error (bad input, unsupported model, impossible request).</summary>
    public const int UserError = 2;

    /// <summary>Exit code for a bug: an unexpected exception.</summary>
    public const int InternalError = 70;

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces for errors",
        Recursive = true,
    };

    public static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand("VramFit: will this LLM fit on these GPUs for inference, what will it use, and how do I make it fit?");
        root.Add(Verbose);
        foreach (var command in CommandRegistry.Create(context))
            root.Add(command);
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CliContext(stdout, stderr);
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (VramFitException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            if (parse.GetValue(Verbose))
                stderr.WriteLine(e);
            return UserError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            if (parse.GetValue(Verbose))
                stderr.WriteLine(e);
            return UserError;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"internal error (please report): {e.GetType().Name}: {e.Message}");
            if (parse.GetValue(Verbose))
                stderr.WriteLine(e);
            return InternalError;
        }
    }
}

/// <summary>Where commands write; tests pass string writers (then output is plain text without colors).</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error)
{
    private IAnsiConsole? console;

    /// <summary>Spectre.Console over <see cref="Out"/>: colors only on a real terminal.</summary>
    public IAnsiConsole Console => console ??= Commands.Consoles.For(Out);
}
