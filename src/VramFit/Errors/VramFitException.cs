namespace VramFit.Errors;

/// <summary>
/// Base of every error the library raises for bad input or an impossible request. The CLI and the web
/// API catch this type at one boundary and show <see cref="Exception.Message"/> as a one-line reason;
/// anything else escaping the library is a bug.
/// </summary>
public class VramFitException : Exception
{
    public VramFitException(string message) : base(message) { }
    public VramFitException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model description could not be built: a missing, contradictory or absurd field.</summary>
public class ModelDescriptionException : VramFitException
{
    public ModelDescriptionException(string message) : base(message) { }
}

/// <summary>The architecture (HF <c>model_type</c>, GGUF <c>general.architecture</c>) is not supported.</summary>
public sealed class UnsupportedArchitectureException : ModelDescriptionException
{
    public UnsupportedArchitectureException(string architecture, IEnumerable<string> supported)
        : base($"unsupported architecture '{architecture}'; supported: {string.Join(", ", supported)}")
    {
        Architecture = architecture;
    }

    public string Architecture { get; }
}

/// <summary>
/// A binary or text file is malformed. Carries the byte offset where parsing failed and what was
/// expected there, like ImageSharp's <c>InvalidImageContentException</c>.
/// </summary>
public sealed class InvalidFileFormatException : VramFitException
{
    public InvalidFileFormatException(string format, long offset, string problem, string? path = null)
        : base($"{(path is null ? "" : path + ": ")}invalid {format} at byte {offset}: {problem}")
    {
        Format = format;
        Offset = offset;
        Problem = problem;
    }

    public string Format { get; }
    public long Offset { get; }
    public string Problem { get; }
}

/// <summary>A user-supplied value (size, count, option) is malformed or out of range.</summary>
public sealed class InvalidSettingException : VramFitException
{
    public InvalidSettingException(string setting, string problem)
        : base($"{setting}: {problem}")
    {
        Setting = setting;
    }

    public string Setting { get; }
}

/// <summary>A model or accelerator name is not in the built-in catalog (and is not a path).</summary>
public sealed class CatalogLookupException : VramFitException
{
    public CatalogLookupException(string message) : base(message) { }
}
