import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keys",
            abstract: "Private keys: write them where a signer reads them, list the copies, seal files into the registry, change the KEK.",
            discussion: """
                With 'keyStore: registry' the registry keeps every private key sealed (AES-256-GCM \
                under its own data key, wrapped by the key-encryption key of 'keyEncryptionKey:'), \
                so any host that can reach the registry and the KEK can take over. A signing host \
                gets plaintext only through 'keys materialize', run there (from cron or a systemd \
                timer, then 'export mta --key-dir' and a reload). It works with the default file \
                store too, copying from the state directory's keys/.

                Revocation erases the sealed key (crypto-erase) and the copies on the host that \
                revokes; every other host erases its copies of revoked and retired keys at its \
                next 'keys materialize'. 'keys copies' shows what is still out there. 'keys seal' \
                moves keys kept in files into the registry; 'keys rewrap' moves the sealed keys to a \
                new key-encryption key.

                Examples:
                  dkimctl keys materialize --host-dir /etc/opendkim/keys --provider self-hosted
                  dkimctl keys copies --format json
                  dkimctl keys seal
                  dkimctl keys rewrap --previous-kek-file /etc/dkimctl/kek.old
                """,
            subcommands: [Materialize.self, Copies.self, Seal.self, Rewrap.self])

        struct Materialize: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "materialize",
                abstract: "Write the private keys a signing host needs into a directory, and erase those it no longer needs.",
                discussion: """
                    Writes the private key of every published and active key (the active key signs; \
                    a published successor is in place before its activation) as \
                    <selector>._domainkey.<domain>.pem, PKCS#8 PEM, mode 0600, atomically (temporary \
                    file, fsync, rename: a symbolic link planted under a key's name is replaced, never \
                    followed). The directory is created 0700; one that is a symbolic link, is not \
                    yours or others can write to is refused. Copies written here before whose key is \
                    now retired, revoked or outside --domain/--provider are overwritten and removed; \
                    files dkimctl did not write are left alone. Every key is opened before anything is \
                    written: a wrong key-encryption key writes nothing. The registry records each \
                    copy with the host name (one 'keys.materialized' event per run that changed something).

                    Examples:
                      dkimctl keys materialize --host-dir /etc/opendkim/keys
                      dkimctl keys materialize --host-dir /var/lib/rspamd/dkim --domain example.org --format json
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Option(name: .customLong("host-dir"), help: ArgumentHelp("Directory the signer reads private keys from.", valueName: "dir"))
            var hostDirectory: String

            @Option(help: "Only the keys of this domain.")
            var domain: String?

            @Option(help: ArgumentHelp("Only the keys of this provider.", valueName: "provider"))
            var provider: String?

            @Option(help: ArgumentHelp("The host name the copies are recorded under (default: this host's).", valueName: "name"))
            var host: String?

            @Option(help: "Output: text or json.")
            var format: OutputFormat = .text

            enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

            func run(_ context: CommandContext) throws {
                guard !hostDirectory.isEmpty else { throw DKIMError(.invalidInput, "host directory '' is empty") }
                let host = host ?? PrivateKeyCustody.localHost
                guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                    throw DKIMError(.invalidInput, "host name '\(host)' is not one (allowed: printable ASCII without spaces)")
                }
                let filter = KeyFilter(domain: try domain.map(DomainName.init), provider: try provider.map(Provider.init))
                let directory = URL(fileURLWithPath: hostDirectory).standardizedFileURL.path
                if context.state.contains(directory) {
                    throw DKIMError(.invalidInput, "host directory \(directory) is inside the state directory; give the signer's own directory")
                }
                let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
                let custody = PrivateKeyCustody(registry: context.registry, state: context.state, store: configuration.privateKeyStore)
                let changes = try custody.materialize(into: directory, host: host, filter: filter, actor: context.actor, at: context.now)
                switch format {
                case .json:
                    var writer = JSONWriter()
                    writer.beginObject()
                    writer.field("host", changes.host)
                    writer.field("directory", changes.directory)
                    writer.field("unchanged", changes.unchanged)
                    writer.field("written", changes.written.map(\.path))
                    writer.field("erased", changes.erased.map(\.path))
                    writer.endObject()
                    Output.standard.write(writer.text + "\n")
                case .text:
                    for copy in changes.written { Output.standard.write("wrote \(copy.path)\n") }
                    for copy in changes.erased { Output.standard.write("erased \(copy.path)\n") }
                    Output.note(
                        "\(changes.directory) on \(changes.host): \(changes.written.count) written, \(changes.unchanged) unchanged, \(changes.erased.count) erased")
                }
            }
        }

        struct Seal: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "seal",
                abstract: "Move the private keys kept in files into the registry, sealed under the key-encryption key.",
                discussion: """
                    For a state directory that switches to 'keyStore: registry': the pending, published, \
                    active and retired keys whose private key is a file in keys/ are sealed under the \
                    configured keyEncryptionKey:, one key per transaction (key.private-key-sealed \
                    event), and each file is overwritten and removed once its key is sealed. Run again \
                    after an interruption: it goes on where it stopped.

                    Examples:
                      dkimctl keys seal
                      dkimctl keys seal --domain example.org
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Option(help: "Only the keys of this domain.")
            var domain: String?

            func run(_ context: CommandContext) throws {
                let filter = KeyFilter(domain: try domain.map(DomainName.init))
                let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
                let custody = PrivateKeyCustody(registry: context.registry, state: context.state, store: configuration.privateKeyStore)
                let sealed = try custody.sealKeyFiles(matching: filter, actor: context.actor, at: context.now)
                for key in sealed { Output.standard.write("sealed \(key.selector) (\(key.domain))\n") }
                Output.note("\(sealed.count) private key(s) moved into the registry")
            }
        }

        struct Rewrap: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "rewrap",
                abstract: "Re-wrap every sealed key's data key under the configured key-encryption key (KEK rotation).",
                discussion: """
                    Put the new KEK in keyEncryptionKey:, name the previous one here, and run once: \
                    every envelope sealed under the previous KEK gets its data key wrapped under the new \
                    one, in one transaction (keys.rewrapped event); the private keys themselves are not \
                    re-encrypted and nothing else changes. Nothing is changed if one envelope does not \
                    open under the previous KEK. The previous wrappings are left nowhere in the \
                    registry's files; backups taken before still open with the previous KEK.

                    Examples:
                      dkimctl keys rewrap --previous-kek-file /etc/dkimctl/kek.old
                      dkimctl keys rewrap --previous-kek-command "vault kv get -field=kek -version=3 secret/dkimctl"
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Option(name: .customLong("previous-kek-file"), help: ArgumentHelp("The previous KEK, in a file.", valueName: "file"))
            var previousFile: String?

            @Option(name: .customLong("previous-kek-credential"), help: ArgumentHelp("The previous KEK, a systemd credential.", valueName: "name"))
            var previousCredential: String?

            @Option(name: .customLong("previous-kek-command"), help: ArgumentHelp("The previous KEK, printed by a command.", valueName: "command"))
            var previousCommand: String?

            func run(_ context: CommandContext) throws {
                let given = [previousFile.map(KeyEncryptionKeySource.file), previousCredential.map(KeyEncryptionKeySource.credential),
                             previousCommand.map(KeyEncryptionKeySource.command)].compactMap { $0 }
                guard given.count == 1 else {
                    throw DKIMError(.invalidInput, "give the previous KEK once: --previous-kek-file, --previous-kek-credential or --previous-kek-command (found \(given.count))")
                }
                let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
                let next = try configuration.privateKeyStore.kek(for: "re-wrapping the sealed keys")
                let previous = try given[0].load()
                guard previous.id != next.id else {
                    throw DKIMError(.invalidInput, "the previous KEK (\(previous.origin)) is the configured one (id \(next.id)); put the new KEK in keyEncryptionKey: first")
                }
                let count = try context.registry.rewrapPrivateKeys(from: previous, to: next, actor: context.actor, at: context.now)
                Output.standard.write("re-wrapped \(count) sealed key(s) from KEK \(previous.id) to KEK \(next.id)\n")
            }
        }

        struct Copies: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "copies",
                abstract: "List the plaintext copies of private keys written on signing hosts.",
                discussion: """
                    One line per copy 'keys materialize' wrote and has not erased: host, path, key, \
                    its state and when it was written. A copy of a revoked or retired key is still \
                    on its host until that host's next 'keys materialize'.

                    Examples:
                      dkimctl keys copies
                      dkimctl keys copies --host mx1.example.org --all --format json
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(help: ArgumentHelp("Only the copies of this host.", valueName: "name"))
            var host: String?

            @Flag(help: "Erased copies too.")
            var all = false

            @Option(help: "Output: text or json.")
            var format: Materialize.OutputFormat = .text

            func run(_ context: CommandContext) throws {
                let copies = try context.registry.materializedCopies(host: host, keyID: nil, includingErased: all)
                var keys: [Int64: RegisteredKey] = [:]
                let wanted = Swift.Set(copies.map(\.keyID))
                try context.registry.forEachKey(matching: KeyFilter(kinds: [.local])) { if wanted.contains($0.id) { keys[$0.id] = $0 } }
                switch format {
                case .json:
                    var writer = JSONWriter()
                    writer.beginArray()
                    for copy in copies {
                        let key = keys[copy.keyID]
                        writer.beginObject()
                        writer.field("host", copy.host)
                        writer.field("path", copy.path)
                        writer.field("domain", key?.domain.ascii)
                        writer.field("selector", key?.selector.name)
                        writer.field("state", key?.state.rawValue)
                        writer.field("writtenAt", Timestamp.iso8601(copy.writtenAt))
                        writer.field("erasedAt", copy.erasedAt.map(Timestamp.iso8601))
                        writer.endObject()
                    }
                    writer.endArray()
                    Output.standard.write(writer.text + "\n")
                case .text:
                    if copies.isEmpty { Output.note("no copies recorded\(all ? "" : " that are not erased")") }
                    for copy in copies {
                        let key = keys[copy.keyID]
                        let erased = copy.erasedAt.map { " erased \(Timestamp.iso8601($0))" } ?? ""
                        Output.standard.write(
                            "\(copy.host) \(copy.path) \(key?.selector.name ?? "?") \(key?.domain.ascii ?? "?") \(key?.state.rawValue ?? "?") written \(Timestamp.iso8601(copy.writtenAt))\(erased)\n")
                    }
                }
            }
        }
    }
}
