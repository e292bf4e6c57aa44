using System.Runtime.InteropServices;
using System.Text;

namespace VramFit.Hardware.Detection;

/// <summary>
/// Reads NVIDIA devices through NVML (<c>libnvidia-ml.so.1</c>, installed with every NVIDIA driver; nothing
/// else to install). The library is loaded with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> and
/// every entry point is resolved by name, so a machine without the driver — or with a driver too old for
/// one call — gets a one-line reason instead of a crash. The NVML session stays open until dispose, so
/// sampling many times a second costs one query per device, not an init/shutdown each time.
/// </summary>
public sealed unsafe class NvmlGpuProbe : IGpuProbe
{
    /// <summary>Library names tried in order (Linux soname, then the Windows name).</summary>
    public static readonly IReadOnlyList<string> LibraryNames = ["libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll"];

    // nvml.h return codes used here.
    private const int NvmlSuccess = 0;
    private const int NvmlErrorInsufficientSize = 7;
    private const int NvmlErrorDriverNotLoaded = 9;
    // nvml.h: NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80.
    private const int NameBufferSize = 96;
    private const int DriverVersionBufferSize = 80;
    // nvml.h: usedGpuMemory is NVML_VALUE_NOT_AVAILABLE (-1 as unsigned long long) when the driver cannot tell.
    private const ulong ValueNotAvailable = ulong.MaxValue;

    private readonly IReadOnlyList<string> _libraryNames;
    private readonly object _gate = new();
    private IntPtr _library;
    private bool _initialized;
    private string? _loadProblem;
    private Api _api;

    /// <summary>Uses the standard NVML library names.</summary>
    public NvmlGpuProbe() : this(LibraryNames) { }

    /// <summary>Tries <paramref name="libraryNames"/> instead (tests point it at a library that does not exist).</summary>
    public NvmlGpuProbe(IReadOnlyList<string> libraryNames) => _libraryNames = libraryNames;

    public string Backend => "NVML";

    public GpuProbeResult Probe()
    {
        lock (_gate)
        {
            if (!EnsureInitialized())
                return GpuProbeResult.Unavailable(Backend, _loadProblem!);
            try
            {
                return Snapshot();
            }
            catch (NvmlCallException e)
            {
                return GpuProbeResult.Unavailable(Backend, e.Message);
            }
            catch (OverflowException)
            {
                return GpuProbeResult.Unavailable(Backend, "NVML reported a memory size beyond 8 EiB; the driver state is inconsistent");
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_initialized)
                _api.Shutdown();
            _initialized = false;
            if (_library != IntPtr.Zero)
                NativeLibrary.Free(_library);
            _library = IntPtr.Zero;
        }
    }

    private bool EnsureInitialized()
    {
        if (_initialized)
            return true;
        if (_loadProblem is not null)
            return false;
        foreach (var name in _libraryNames)
            if (NativeLibrary.TryLoad(name, out _library))
                break;
        if (_library == IntPtr.Zero)
        {
            _loadProblem = $"no NVIDIA driver ({_libraryNames[0]} not found)";
            return false;
        }

        if (!Api.TryResolve(_library, out _api, out var missing))
        {
            _loadProblem = $"the NVIDIA driver's NVML library lacks {missing}; the driver is too old";
            return false;
        }

        int rc = _api.Init();
        if (rc != NvmlSuccess)
        {
            _loadProblem = rc == NvmlErrorDriverNotLoaded
                ? "NVML is installed but the NVIDIA kernel driver is not loaded (no GPU, or the driver is not running)"
                : $"NVML could not start: {ErrorText(rc)}";
            return false;
        }

        _initialized = true;
        return true;
    }

    private GpuProbeResult Snapshot()
    {
        uint count;
        Check(_api.GetCount(&count), "nvmlDeviceGetCount_v2");
        var gpus = new List<DetectedGpu>((int)count);
        for (uint i = 0; i < count; i++)
        {
            IntPtr device;
            Check(_api.GetHandleByIndex(i, &device), "nvmlDeviceGetHandleByIndex_v2");
            NvmlMemory memory;
            Check(_api.GetMemoryInfo(device, &memory), "nvmlDeviceGetMemoryInfo");
            var handle = device; // a copy the name lambda may capture (device's address was taken above)
            gpus.Add(new DetectedGpu
            {
                Index = (int)i,
                Name = ReadString(NameBufferSize, (buffer, length) => _api.GetName(handle, buffer, length)) ?? $"GPU {i}",
                TotalBytes = checked((long)memory.Total),
                FreeBytes = checked((long)memory.Free),
                UsedBytes = checked((long)memory.Used),
                ComputeCapability = ComputeCapability(device),
                PcieLink = PcieLink(device),
                Processes = Processes(device),
            });
        }

        return new GpuProbeResult
        {
            Available = true,
            Backend = Backend,
            DriverVersion = ReadString(DriverVersionBufferSize, (buffer, length) => _api.GetDriverVersion(buffer, length)),
            Gpus = gpus,
        };
    }

    private string? ComputeCapability(IntPtr device)
    {
        int major, minor;
        return _api.GetCudaComputeCapability(device, &major, &minor) == NvmlSuccess ? $"{major}.{minor}" : null;
    }

    private Interconnect? PcieLink(IntPtr device)
    {
        uint generation, width;
        if (_api.GetMaxPcieLinkGeneration(device, &generation) != NvmlSuccess || _api.GetMaxPcieLinkWidth(device, &width) != NvmlSuccess)
            return null;
        return Interconnect.FromPcie((int)generation, (int)width);
    }

    private List<GpuProcessUsage> Processes(IntPtr device)
    {
        // Ask for the count first, then fetch with headroom: processes may start between the two calls.
        uint count = 0;
        int rc = _api.GetComputeRunningProcesses(device, &count, null);
        if (rc != NvmlSuccess && rc != NvmlErrorInsufficientSize)
            return [];
        for (int attempt = 0; attempt < 3; attempt++)
        {
            uint capacity = count + 8;
            var buffer = new NvmlProcessInfoV2[capacity];
            fixed (NvmlProcessInfoV2* p = buffer)
            {
                uint n = capacity;
                rc = _api.GetComputeRunningProcesses(device, &n, p);
                if (rc == NvmlSuccess)
                {
                    var list = new List<GpuProcessUsage>((int)n);
                    for (int k = 0; k < n; k++)
                        list.Add(new GpuProcessUsage((int)buffer[k].Pid, buffer[k].UsedGpuMemory == ValueNotAvailable ? null : (long)buffer[k].UsedGpuMemory));
                    return list;
                }

                if (rc != NvmlErrorInsufficientSize)
                    return [];
                count = n;
            }
        }

        return [];
    }

    private delegate int StringCall(byte* buffer, uint length);

    private static string? ReadString(int size, StringCall call)
    {
        var buffer = stackalloc byte[size];
        if (call(buffer, (uint)size) != NvmlSuccess)
            return null;
        int length = 0;
        while (length < size && buffer[length] != 0)
            length++;
        return Encoding.UTF8.GetString(buffer, length);
    }

    private void Check(int rc, string function)
    {
        if (rc != NvmlSuccess)
            throw new NvmlCallException($"{function} failed: {ErrorText(rc)}");
    }

    private string ErrorText(int rc)
    {
        var text = _api.ErrorString is null ? IntPtr.Zero : (IntPtr)_api.ErrorString(rc);
        return text == IntPtr.Zero ? $"NVML error {rc}" : $"{Marshal.PtrToStringUTF8(text)} (NVML error {rc})";
    }

    private sealed class NvmlCallException(string message) : Exception(message);

    /// <summary>nvml.h <c>nvmlMemory_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    /// <summary>
    /// nvml.h <c>nvmlProcessInfo_v2_t</c> (24 bytes), the layout of <c>nvmlDeviceGetComputeRunningProcesses_v2</c>.
    /// The <c>_v3</c> entry point is avoided on purpose: its <c>nvmlProcessInfo_t</c> gained and lost a
    /// <c>usedGpuCcProtectedMemory</c> field across driver releases (pynvml probes the size at run time),
    /// while the <c>_v2</c> layout has stayed fixed.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlProcessInfoV2
    {
        public uint Pid;
        public ulong UsedGpuMemory;
        public uint GpuInstanceId;
        public uint ComputeInstanceId;
    }

    /// <summary>Entry points resolved from the loaded library by their nvml.h names.</summary>
    private struct Api
    {
        public delegate* unmanaged[Cdecl]<int> Init;
        public delegate* unmanaged[Cdecl]<int> Shutdown;
        public delegate* unmanaged[Cdecl]<uint*, int> GetCount;
        public delegate* unmanaged[Cdecl]<uint, IntPtr*, int> GetHandleByIndex;
        public delegate* unmanaged[Cdecl]<IntPtr, byte*, uint, int> GetName;
        public delegate* unmanaged[Cdecl]<IntPtr, NvmlMemory*, int> GetMemoryInfo;
        public delegate* unmanaged[Cdecl]<IntPtr, int*, int*, int> GetCudaComputeCapability;
        public delegate* unmanaged[Cdecl]<IntPtr, uint*, NvmlProcessInfoV2*, int> GetComputeRunningProcesses;
        public delegate* unmanaged[Cdecl]<IntPtr, uint*, int> GetMaxPcieLinkGeneration;
        public delegate* unmanaged[Cdecl]<IntPtr, uint*, int> GetMaxPcieLinkWidth;
        public delegate* unmanaged[Cdecl]<byte*, uint, int> GetDriverVersion;
        public delegate* unmanaged[Cdecl]<int, byte*> ErrorString;

        public static bool TryResolve(IntPtr library, out Api api, out string? missing)
        {
            api = default;
            missing = null;
            IntPtr Get(string name, ref string? firstMissing)
            {
                if (NativeLibrary.TryGetExport(library, name, out var address))
                    return address;
                firstMissing ??= name;
                return IntPtr.Zero;
            }

            api.Init = (delegate* unmanaged[Cdecl]<int>)Get("nvmlInit_v2", ref missing);
            api.Shutdown = (delegate* unmanaged[Cdecl]<int>)Get("nvmlShutdown", ref missing);
            api.GetCount = (delegate* unmanaged[Cdecl]<uint*, int>)Get("nvmlDeviceGetCount_v2", ref missing);
            api.GetHandleByIndex = (delegate* unmanaged[Cdecl]<uint, IntPtr*, int>)Get("nvmlDeviceGetHandleByIndex_v2", ref missing);
            api.GetName = (delegate* unmanaged[Cdecl]<IntPtr, byte*, uint, int>)Get("nvmlDeviceGetName", ref missing);
            api.GetMemoryInfo = (delegate* unmanaged[Cdecl]<IntPtr, NvmlMemory*, int>)Get("nvmlDeviceGetMemoryInfo", ref missing);
            api.GetCudaComputeCapability = (delegate* unmanaged[Cdecl]<IntPtr, int*, int*, int>)Get("nvmlDeviceGetCudaComputeCapability", ref missing);
            api.GetComputeRunningProcesses = (delegate* unmanaged[Cdecl]<IntPtr, uint*, NvmlProcessInfoV2*, int>)Get("nvmlDeviceGetComputeRunningProcesses_v2", ref missing);
            api.GetMaxPcieLinkGeneration = (delegate* unmanaged[Cdecl]<IntPtr, uint*, int>)Get("nvmlDeviceGetMaxPcieLinkGeneration", ref missing);
            api.GetMaxPcieLinkWidth = (delegate* unmanaged[Cdecl]<IntPtr, uint*, int>)Get("nvmlDeviceGetMaxPcieLinkWidth", ref missing);
            api.GetDriverVersion = (delegate* unmanaged[Cdecl]<byte*, uint, int>)Get("nvmlSystemGetDriverVersion", ref missing);
            // Optional: only used to word error messages.
            string? ignored = null;
            api.ErrorString = (delegate* unmanaged[Cdecl]<int, byte*>)Get("nvmlErrorString", ref ignored);
            return missing is null;
        }
    }
}
