import DKIMKit

// Before anything else: no core file or ptrace of a process that may hold private keys.
ProcessHardening.disableCoreDumps()
DKIMCtl.main(CommandLine.arguments.dropFirst().map { $0 })
