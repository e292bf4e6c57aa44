using System.CommandLine;

namespace VramFit.Cli.Commands;

/// <summary>Every top-level command; each lives in its own file and adds one line here.</summary>
internal static class CommandRegistry
{
    public static IEnumerable<Command> Create(CliContext context) =>
    [
        EstimateCommand.Create(context),
        InspectCommand.Create(context),
        PlanCommand.Create(context),
        FitCommand.Create(context),
        CapacityCommands.MaxContext(context),
        CapacityCommands.MaxConcurrency(context),
        ServeCommand.Create(context),
        PerfCommand.Create(context),
        SimulateCommand.Create(context),
        GpusCommand.Create(context),
        MeasureCommand.Create(context),
        ModelsCommand.Create(context),
        ValidateCommand.Create(context),
        ExplainLogCommand.Create(context),
    ];
}
