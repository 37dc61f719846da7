internal import CProcess
import Foundation

// The thin wall around prctl(2): the only file that imports CProcess.

/// Keeps private key material out of core files and away from debuggers.
public enum ProcessHardening {
    /// Sets `RLIMIT_CORE` to 0 (soft and hard) and `PR_SET_DUMPABLE` to 0: no core
    /// file is written if the process crashes, and processes of the same user
    /// cannot ptrace it or read its memory through /proc. dkimctl calls this
    /// first thing, before any key is generated or read.
    /// - Returns: what could not be applied (empty when both held).
    @discardableResult
    public static func disableCoreDumps() -> [String] {
        var failures: [String] = []
        if dkimctl_disable_core_files() != 0 { failures.append("setrlimit(RLIMIT_CORE, 0): \(String(cString: strerror(errno)))") }
        if dkimctl_set_dumpable(0) != 0 { failures.append("prctl(PR_SET_DUMPABLE, 0): \(String(cString: strerror(errno)))") }
        return failures
    }

    /// Whether the process may dump core (`PR_GET_DUMPABLE`).
    public static var isDumpable: Bool { dkimctl_get_dumpable() != 0 }

    /// The core file size limit (soft), in bytes.
    public static var coreFileLimit: UInt64 {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        return UInt64(limit.rlim_cur)
    }
}
