import Foundation

/// What the rotation core asks of the outside world, passed in so the core can be
/// tested tick by tick without BIND, hooks or OpenSSL's prime search
/// (`RotationCoreTests`); `standard` is what dkimctl runs with.
public struct RotationCollaborators: Sendable {
    /// The publisher that brings a domain's records to DNS.
    public var publisher: @Sendable (_ domain: DomainConfiguration, _ state: StateDirectory) -> any RecordPublisher
    /// Runs a domain's deploy hook with the `DKIM_*` environment.
    public var runHook: @Sendable (_ command: String, _ environment: [String: String]) throws -> ShellCommand.Outcome
    /// Generates a keypair for a new key.
    public var generateKey: @Sendable (KeySpecification) throws -> KeyPair
    /// Destroys a revoked key's private key file, or moves it into `revealInto`;
    /// returns where it was revealed.
    public var disposeOfKeyFile: @Sendable (_ path: String, _ revealInto: String?) throws -> String?

    public init(
        publisher: @escaping @Sendable (DomainConfiguration, StateDirectory) -> any RecordPublisher,
        runHook: @escaping @Sendable (String, [String: String]) throws -> ShellCommand.Outcome,
        generateKey: @escaping @Sendable (KeySpecification) throws -> KeyPair,
        disposeOfKeyFile: @escaping @Sendable (String, String?) throws -> String?
    ) {
        self.publisher = publisher
        self.runHook = runHook
        self.generateKey = generateKey
        self.disposeOfKeyFile = disposeOfKeyFile
    }

    /// The configured publishers, `/bin/sh` hooks, OpenSSL keys, files overwritten or moved.
    public static let standard = RotationCollaborators(
        publisher: { domain, state in domain.publisher.makePublisher(state: state) },
        runHook: { command, environment in try ShellCommand(command).run(environment: environment) },
        generateKey: { specification in try KeyPair.generate(specification) },
        disposeOfKeyFile: { path, directory in
            if let directory { return try PrivateKeyFile.reveal(path, into: directory) }
            try PrivateKeyFile.destroy(path)
            return nil
        })
}
