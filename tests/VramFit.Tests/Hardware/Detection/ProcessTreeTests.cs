using VramFit.Hardware.Detection;

namespace VramFit.Tests.Hardware.Detection;

public class ProcessTreeTests
{
    [Theory]
    [InlineData("1234 (python3) S 99 1234 1234 0 -1", 99)]
    [InlineData("77 (my (odd) name) R 5 77 77 0 -1", 5)]
    [InlineData("garbage", null)]
    public void Parses_the_parent_after_the_command_name(string stat, int? parent) =>
        Assert.Equal(parent, ProcfsProcessTree.ParseParent(stat));

    [Fact]
    public void Descendants_include_grandchildren_and_nothing_else()
    {
        var parents = new Dictionary<int, int> { [10] = 1, [11] = 10, [12] = 11, [13] = 10, [20] = 1 };
        Assert.Equal(new HashSet<int> { 10, 11, 12, 13 }, ProcfsProcessTree.Descendants(10, parents).ToHashSet());
    }

    [Fact]
    public void Reads_a_proc_like_directory()
    {
        var root = Directory.CreateTempSubdirectory("vramfit-proc").FullName;
        try
        {
            void Write(int pid, int parent)
            {
                Directory.CreateDirectory(Path.Combine(root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                File.WriteAllText(Path.Combine(root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "stat"), $"{pid} (x) S {parent} 0 0");
            }

            Write(100, 1);
            Write(101, 100);
            Write(102, 101);
            Write(200, 1);
            Directory.CreateDirectory(Path.Combine(root, "self"));
            Assert.Equal(new HashSet<int> { 100, 101, 102 }, new ProcfsProcessTree(root).WithDescendants(100).ToHashSet());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
