namespace VramFit.Errors;

/// <summary>How alike two names are, for "close matches" in lookup errors (catalog models and GPUs).</summary>
public static class TextSimilarity
{
    /// <summary>Length of the longest run of characters the two strings share.</summary>
    public static int LongestCommonRun(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int best = 0;
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++)
            {
                int k = 0;
                while (i + k < a.Length && j + k < b.Length && a[i + k] == b[j + k])
                    k++;
                best = Math.Max(best, k);
            }

        return best;
    }
}
