using System.Globalization;

namespace VramFit.Hardware.Detection;

/// <summary>Finds the processes descended from a root process (an inference server forks workers).</summary>
public interface IProcessTree
{
    /// <summary>The root and every live descendant.</summary>
    IReadOnlySet<int> WithDescendants(int rootPid);
}

/// <summary>
/// Reads parent links from <c>/proc/&lt;pid&gt;/stat</c> (Linux). On other systems, or when /proc is
/// unreadable, only the root itself is returned — its own usage is still measured.
/// </summary>
public sealed class ProcfsProcessTree : IProcessTree
{
    private readonly string _procRoot;

    public ProcfsProcessTree(string procRoot = "/proc") => _procRoot = procRoot;

    public IReadOnlySet<int> WithDescendants(int rootPid)
    {
        var parents = new Dictionary<int, int>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(_procRoot))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    continue;
                try
                {
                    if (ParseParent(File.ReadAllText(Path.Combine(dir, "stat"))) is int parent)
                        parents[pid] = parent;
                }
                catch (IOException) { } // the process exited between listing and reading
                catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        return Descendants(rootPid, parents);
    }

    /// <summary>The root plus every pid whose parent chain reaches it.</summary>
    internal static IReadOnlySet<int> Descendants(int rootPid, IReadOnlyDictionary<int, int> parentOf)
    {
        var children = parentOf.GroupBy(p => p.Value).ToDictionary(g => g.Key, g => g.Select(p => p.Key).ToList());
        var result = new HashSet<int> { rootPid };
        var queue = new Queue<int>([rootPid]);
        while (queue.Count > 0)
            if (children.TryGetValue(queue.Dequeue(), out var kids))
                foreach (var kid in kids)
                    if (result.Add(kid))
                        queue.Enqueue(kid);
        return result;
    }

    /// <summary>
    /// The 4th field of <c>/proc/pid/stat</c>. The 2nd field is the command name in parentheses and may
    /// itself contain spaces and parentheses, so parsing starts after the last ')'.
    /// </summary>
    internal static int? ParseParent(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0)
            return null;
        var rest = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return rest.Length >= 2 && int.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) ? ppid : null;
    }
}
