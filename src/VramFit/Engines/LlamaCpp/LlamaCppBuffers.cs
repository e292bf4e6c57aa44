namespace VramFit.Engines.LlamaCpp;

/// <summary>Buffer names as llama.cpp's backends print them (ggml_backend_buft_name).</summary>
internal static class LlamaCppBuffers
{
    /// <summary>Device buffer of GPU <paramref name="index"/>: "CUDA0", "ROCm1", "Vulkan0", "SYCL0", "Metal".</summary>
    public static string Device(LlamaCppBackend b, int index) =>
        (uint)index < CachedCount ? Names[(int)b][index] : Format(b, index);

    /// <summary>Device buffer of GPU <paramref name="index"/> as the configured build names it ("MTL0" on recent Metal builds).</summary>
    public static string Device(LlamaCppSettings s, int index) =>
        s.Backend != LlamaCppBackend.Metal || !s.IndexedMetalNames ? Device(s.Backend, index)
        : (uint)index < CachedCount ? IndexedMetal[index] : $"MTL{index}";

    /// <summary>GPU <paramref name="index"/>'s weights mapped from the file on unified memory: "Metal_Mapped", "MTL0_Mapped".</summary>
    public static string DeviceMapped(LlamaCppSettings s, int index) =>
        !s.IndexedMetalNames ? "Metal_Mapped" : (uint)index < CachedCount ? IndexedMetalMapped[index] : $"MTL{index}_Mapped";

    private const int CachedCount = 16;

    // names of the first 16 devices of each backend, built once: placement asks for them per layer
    private static readonly string[][] Names = Enum.GetValues<LlamaCppBackend>()
        .Select(b => Enumerable.Range(0, CachedCount).Select(i => Format(b, i)).ToArray()).ToArray();

    private static readonly string[] IndexedMetal = [.. Enumerable.Range(0, CachedCount).Select(i => $"MTL{i}")];

    private static readonly string[] IndexedMetalMapped = [.. IndexedMetal.Select(n => n + "_Mapped")];

    private static string Format(LlamaCppBackend b, int index) => b switch
    {
        LlamaCppBackend.Cuda => $"CUDA{index}",
        LlamaCppBackend.Rocm => $"ROCm{index}",
        LlamaCppBackend.Vulkan => $"Vulkan{index}",
        LlamaCppBackend.Sycl => $"SYCL{index}",
        LlamaCppBackend.Metal => "Metal",
        _ => "CPU",
    };

    /// <summary>Pinned host memory of the GPU backend ("CUDA_Host"); Metal and CPU runs use the plain CPU buffer.</summary>
    public static string Host(LlamaCppBackend b) => b switch
    {
        LlamaCppBackend.Cuda => "CUDA_Host",
        LlamaCppBackend.Rocm => "ROCm_Host",
        LlamaCppBackend.Vulkan => "Vulkan_Host",
        LlamaCppBackend.Sycl => "SYCL_Host",
        _ => "CPU",
    };

    /// <summary>Row-split weights (--split-mode row) live in one buffer spread over every GPU.</summary>
    public static string Split(LlamaCppBackend b) => b switch
    {
        LlamaCppBackend.Cuda => "CUDA_Split",
        LlamaCppBackend.Rocm => "ROCm_Split",
        LlamaCppBackend.Sycl => "SYCL_Split",
        _ => Device(b, 0),
    };
}
