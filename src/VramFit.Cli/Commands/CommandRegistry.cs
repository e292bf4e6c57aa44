using System.CommandLine;

namespace VramFit.Cli.Commands;

/// <summary>Every top-level command; each lives in its own file and adds one line here.</summary>
internal static class CommandRegistry
{
    public static IEnumerable<Command> Create(CliContext context) =>
    [
        ValidateCommand.Create(context),
        ExplainLogCommand.Create(context),
    ];
}
