import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl.Audit {
    struct Seal: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal",
            abstract: "Sign the event log's head with an audit key kept outside the state directory.",
            discussion: """
                A seal says: at this time the log ended at event N with hash H, and the register held K \
                keys. It is appended to <state>/seals.log and printed. 'audit verify --seals' checks every \
                seal against the chain: a chain rewritten with recomputed hashes breaks every seal made \
                after the rewritten event. The seal is refused while the chain or the register is broken.

                The audit key is an Ed25519 key: '--init-key FILE' makes one (mode 0600) and prints its \
                public key for the auditor to keep; it is also copied to <state>/seal-public.pem. Keep the \
                private key outside the state directory (a key inside it is refused): whoever can rewrite \
                the registry must not also be able to sign a new history. The auditor can check a seal \
                with openssl alone (runbooks/audit-event-chain.md).

                Exit status: 0 sealed (or key created); 1 the chain or register is broken, or the key \
                cannot be read; 64 bad input.

                Examples:
                  dkimctl audit seal --init-key /etc/dkimctl-audit/seal.pem
                  dkimctl audit seal --key /etc/dkimctl-audit/seal.pem
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The Ed25519 audit key (PEM) that signs the seal.", valueName: "file"))
        var key: String?

        @Option(name: .customLong("init-key"), help: ArgumentHelp("Create a new audit key at this path, print its public key, and stop.", valueName: "file"))
        var initKey: String?

        func run(_ context: CommandContext) throws {
            if let initKey {
                guard key == nil else { throw DKIMError(.invalidInput, "--init-key and --key cannot be combined: create the key first, then seal with --key") }
                try refuseInsideState(initKey, context.state)
                let created = try AuditSealKey.create(at: initKey)
                try AtomicFile.write(Data(created.publicKeyPEM.utf8), to: context.state.sealPublicKeyPath, mode: 0o644, replacing: true)
                Output.standard.write(created.publicKeyPEM)
                Output.note("audit key \(created.fingerprint) written to \(initKey) (mode 0600); give the public key above to the auditor")
                return
            }
            guard let key else {
                throw DKIMError(
                    .invalidInput,
                    "no audit key: pass --key FILE (create one with 'dkimctl audit seal --init-key FILE', outside the state directory)")
            }
            try refuseInsideState(key, context.state)
            let sealKey = try AuditSealKey.load(from: key)
            let chain = try context.registry.verifyEventChain()
            if let broken = chain.firstBreak {
                throw DKIMError(.registry, "the event chain is broken (\(broken.problem)); a seal would vouch for it: run 'dkimctl audit verify'")
            }
            let register = try context.registry.verifyRegister()
            if let first = register.problems.first {
                throw DKIMError(.registry, "the register differs from the event log (\(first)); a seal would vouch for it: run 'dkimctl audit verify'")
            }
            guard chain.eventCount > 0 else { throw DKIMError(.registry, "the event log is empty: nothing to seal") }
            let keyCount = try context.registry.keys().count
            let seal = try AuditSeal(eventID: chain.headID, eventHash: chain.headHash, time: context.now, keyCount: keyCount, key: sealKey)
            try SealLog.append(seal, to: context.state.sealsLogPath)
            Output.standard.write(seal.line + "\n")
        }

        private func refuseInsideState(_ path: String, _ state: StateDirectory) throws {
            if state.contains(path) {
                throw DKIMError(
                    .invalidInput,
                    "audit key '\(path)' is inside the state directory \(state.path); keep it elsewhere (e.g. /etc/dkimctl-audit/seal.pem)")
            }
        }
    }
}
