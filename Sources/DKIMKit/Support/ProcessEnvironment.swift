import Foundation

/// Variables of the process's environment, read one at a time with `getenv`: Foundation's
/// `ProcessInfo.environment` copies the whole environment into a dictionary on each access,
/// which every command paid several times on its way to the registry.
public enum ProcessEnvironment {
    /// The variable's value, or nil when it is not set.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The variable's value, or nil when it is not set or empty.
    public static func nonEmptyValue(_ name: String) -> String? {
        value(name).flatMap { $0.isEmpty ? nil : $0 }
    }
}
