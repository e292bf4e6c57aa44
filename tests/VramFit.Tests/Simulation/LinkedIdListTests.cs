using VramFit.Simulation;

namespace VramFit.Tests.Simulation;

public class LinkedIdListTests
{
    [Fact]
    public void Keeps_insertion_order_under_random_removals()
    {
        const int ids = 64;
        var random = new Random(11);
        var list = new LinkedIdList(ids);
        var reference = new List<int>();
        for (int op = 0; op < 20_000; op++)
        {
            int id = random.Next(ids);
            if (reference.Contains(id))
            {
                list.Remove(id);
                reference.Remove(id);
            }
            else
            {
                list.AddLast(id);
                reference.Add(id);
            }

            Assert.Equal(reference.Count, list.Count);
            Assert.Equal(reference.Count == 0 ? -1 : reference[0], list.First);
            Assert.Equal(reference.Count == 0 ? -1 : reference[^1], list.Last);
            var walked = new List<int>();
            for (int i = list.First; i >= 0; i = list.Next(i))
                walked.Add(i);
            Assert.Equal(reference, walked);
        }
    }

    [Fact]
    public void An_id_is_in_the_list_at_most_once()
    {
        var list = new LinkedIdList(3);
        list.AddLast(2);
        Assert.Throws<InvalidOperationException>(() => list.AddLast(2));
        Assert.Throws<InvalidOperationException>(() => list.Remove(1));
        Assert.True(list.Contains(2));
        Assert.False(list.Contains(1));
    }
}
