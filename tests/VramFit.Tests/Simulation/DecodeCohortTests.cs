using VramFit.Simulation;

namespace VramFit.Tests.Simulation;

public class DecodeCohortTests
{
    /// <summary>The cohort's O(1) aggregates against a brute-force walk over every member after each random operation.</summary>
    [Theory]
    [InlineData(1, 16)]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(4, 32)]
    public void Aggregates_match_a_walk_over_every_member(int seed, int blockSize)
    {
        const int ids = 300;
        var random = new Random(seed);
        var cohort = new DecodeCohort(ids, blockSize);
        var computed = new Dictionary<int, long>();
        var left = new Dictionary<int, int>();
        for (int op = 0; op < 20_000; op++)
        {
            int roll = random.Next(10);
            if (roll < 3 && computed.Count < ids)
            {
                int id;
                do
                    id = random.Next(ids);
                while (computed.ContainsKey(id));
                computed[id] = random.Next(1, 5000);
                left[id] = random.Next(1, random.Next(2) == 0 ? 4 : 300);
                cohort.Join(id, computed[id], left[id]);
            }
            else if (roll < 4 && computed.Count > 0)
            {
                // a member unfolded before it finishes
                int id = computed.Keys.ElementAt(random.Next(computed.Count));
                Assert.Equal(computed[id], cohort.Computed(id));
                cohort.Leave(id);
                computed.Remove(id);
                left.Remove(id);
            }
            else
            {
                cohort.Step();
                foreach (int id in computed.Keys.ToList())
                {
                    computed[id]++;
                    left[id]--;
                }

                var finished = new List<int>();
                while (cohort.TryPeekFinished(out int id))
                {
                    Assert.Equal(computed[id], cohort.Computed(id));
                    finished.Add(id);
                    cohort.Leave(id);
                    computed.Remove(id);
                    left.Remove(id);
                }

                Assert.DoesNotContain(left.Values, l => l <= 0);
                Assert.Equal(finished.Count, finished.Distinct().Count());
            }

            Assert.Equal(computed.Count, cohort.Count);
            Assert.Equal(computed.Values.Sum(c => c + 1), cohort.ContextTokens);
            Assert.Equal(computed.Values.Count(c => c % blockSize == 0), cohort.BlocksDue);
            Assert.Equal(left.Count == 0 ? long.MaxValue : left.Values.Min(), cohort.StepsUntilFirstFinish);
            foreach (int id in computed.Keys)
                Assert.True(cohort.Contains(id));
        }
    }

    [Fact]
    public void A_member_cannot_join_twice_or_with_nothing_left()
    {
        var cohort = new DecodeCohort(4, 16);
        cohort.Join(1, 100, 5);
        Assert.Throws<InvalidOperationException>(() => cohort.Join(1, 100, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => cohort.Join(2, 100, 0));
        Assert.Throws<InvalidOperationException>(() => cohort.Leave(3));
    }

    [Fact]
    public void A_member_that_leaves_and_rejoins_finishes_once_at_its_new_step()
    {
        var cohort = new DecodeCohort(4, 16);
        cohort.Join(0, 10, 3);
        cohort.Step();
        cohort.Leave(0);
        cohort.Join(1, 50, 5);   // keeps the stale entry of 0 in the queue
        cohort.Join(0, 11, 2);
        cohort.Step();
        Assert.False(cohort.TryPeekFinished(out _));
        cohort.Step();
        Assert.True(cohort.TryPeekFinished(out int id));
        Assert.Equal(0, id);
        Assert.Equal(13, cohort.Computed(0));
        cohort.Leave(0);
        Assert.False(cohort.TryPeekFinished(out _));
        Assert.Equal(3, cohort.StepsUntilFirstFinish);
    }
}
