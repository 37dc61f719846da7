import Foundation

/// Crash points for the crash-safety tests: when `DKIMCTL_FAULT` names a
/// point, the process aborts there, as a power cut or `kill -9` would stop it.
/// `POINT:stop` stops the process there instead (`SIGSTOP`, the first time only), as a
/// long pause would: the leader-election tests resume it with `SIGCONT` once another
/// scheduler took over, to see its writes fenced.
///
/// The points, in the order a rotation reaches them, are listed in
/// `FaultInjection.points`; the README documents them.
public enum FaultInjection {
    public static let variable = "DKIMCTL_FAULT"

    /// Every point, so the tests can walk them all.
    public static let points = [
        "keys-generated",  // the tick generated the keys it needs, nothing written yet
        "key-file-written",  // the new private key file is on disk, its registry row is not
        "key-registered",  // the row exists, nothing published
        "record-pushed",  // the publisher succeeded, the push is not recorded
        "push-recorded",  // recorded, DNS not yet checked
        "key-activated",  // active in the registry, deploy hook not yet run
        "deploy-ran",  // the deploy hook succeeded, not yet recorded
        "key-revoked",  // revoked in the registry, the revocation not yet pushed
        "private-key-disposed",  // the file is destroyed or revealed, not yet recorded
    ]

    private static let armed = ProcessEnvironment.nonEmptyValue(variable)

    nonisolated(unsafe) private static var stopped = false

    /// Aborts (or stops) the process if `DKIMCTL_FAULT` names `point`.
    public static func point(_ point: String) {
        guard let armed else { return }
        if armed == point + ":stop", !stopped {
            stopped = true
            FileHandle.standardError.write(Data("dkimctl: fault injected at '\(point)' (\(variable)); stopping (pid \(getpid()))\n".utf8))
            raise(SIGSTOP)
            return
        }
        guard armed == point else { return }
        FileHandle.standardError.write(Data("dkimctl: fault injected at '\(point)' (\(variable)); aborting\n".utf8))
        abort()
    }
}
