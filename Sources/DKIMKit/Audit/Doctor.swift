import Foundation

/// One thing `dkimctl doctor` looked at.
public struct DoctorCheck: Sendable, Equatable {
    /// Which check: `state-directory`, `key-files`, `registry`, `orphan-key-file`, …
    public let name: String
    public let ok: Bool
    public let message: String
    /// The steps that fix it, in order; empty when nothing is wrong.
    public let fix: [Remedy]

    static func ok(_ name: String, _ message: String) -> DoctorCheck { DoctorCheck(name: name, ok: true, message: message, fix: []) }
    static func problem(_ name: String, _ message: String, fix: Remedy...) -> DoctorCheck {
        DoctorCheck(name: name, ok: false, message: message, fix: fix)
    }
}

/// Local health of a dkimctl installation: file modes, the registry file, key
/// files against registry rows, the configuration, and DNS reachability of the
/// configured domains' nameservers. Reports; never changes anything.
public struct Doctor: Sendable {
    public let state: StateDirectory
    /// The configuration file to check, and whether the user named it (then it must exist).
    public let configurationPath: String
    public let configurationRequired: Bool
    /// nil: DNS is not asked.
    public let checker: PublicationChecker?
    /// The PostgreSQL registry, or nil for the state directory's SQLite file.
    public let registry: PostgresSettings?

    public init(
        state: StateDirectory, configurationPath: String, configurationRequired: Bool, checker: PublicationChecker?,
        registry: PostgresSettings? = nil
    ) {
        self.state = state
        self.configurationPath = configurationPath
        self.configurationRequired = configurationRequired
        self.checker = checker
        self.registry = registry
    }

    private func openRegistry() throws -> SQLRegistry {
        if let registry { return try SQLRegistry.open(postgres: registry) }
        return try SQLRegistry.open(path: state.registryPath, create: false)
    }

    public func run() -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        guard FileManager.default.fileExists(atPath: state.path) else {
            return [.problem("state-directory", "\(state.path) does not exist", fix: .initialize(stateDirectory: state.path, withOwner: true))]
        }
        checks.append(mode(state.path, what: "state directory", name: "state-directory", allowed: 0o700))
        checks.append(mode(state.keysPath, what: "key directory", name: "key-directory", allowed: 0o700))
        if registry == nil { checks.append(mode(state.registryPath, what: "registry", name: "registry-file", allowed: 0o600)) }
        let files = keyFiles()
        let unsafe = files.compactMap { file -> DoctorCheck? in
            var info = stat()
            guard lstat(file, &info) == 0 else { return nil }
            if info.st_mode & S_IFMT != S_IFREG {
                return .problem("key-file-mode", "\(file) is not a regular file", fix: .manual("move \(file) out of the key directory (key files must be regular files)"))
            }
            let mode = info.st_mode & 0o777
            return mode & 0o077 == 0
                ? nil
                : .problem(
                    "key-file-mode", "key file \(file) has mode 0\(String(mode, radix: 8)): others can read it, so treat the key as exposed",
                    fix: .manual("chmod 600 \(file)"), .emergencyRotation(selector: nil, domain: nil, reason: nil))
        }
        checks += unsafe.isEmpty ? [.ok("key-file-mode", "\(files.count) key file(s), all mode 0600")] : unsafe

        // The registry: it opens, SQLite finds it sound, its event chain is intact.
        do {
            let registry = try openRegistry()
            guard let integrity = try registry.integrityCheck() else {
                // A server database: it answered, and its schema is current (opening migrates).
                checks.append(.ok("registry-integrity", "\(registry.label): connected, schema current"))
                return try registryChecks(registry, checks, files: files)
            }
            guard integrity == ["ok"] else {
                checks.append(.problem(
                    "registry-integrity", "PRAGMA integrity_check reports damage: \(integrity.prefix(3).joined(separator: "; "))",
                    fix: Self.restoreRegistry(state)))
                return checks + configurationChecks()
            }
            checks.append(.ok("registry-integrity", "PRAGMA integrity_check: ok"))
            return try registryChecks(registry, checks, files: files)
        } catch {
            checks.append(.problem(
                "registry-integrity", "the registry cannot be read: \((error as? DKIMError)?.message ?? "\(error)")",
                fix: Self.restoreRegistry(state)))
            return checks + configurationChecks()
        }
    }

    /// The event chain, the register and the key files, once the registry opened.
    private func registryChecks(_ registry: SQLRegistry, _ earlier: [DoctorCheck], files: [String]) throws -> [DoctorCheck] {
        var checks = earlier
        do {
            let chain = try registry.verifyEventChain()
            checks.append(chain.firstBreak.map {
                .problem(
                    "event-chain", $0.problem,
                    fix: .verifyRegister, .manual("keep this registry file as evidence and compare it with the last backup"))
            } ?? .ok("event-chain", "\(chain.eventCount) events, chain intact"))
            let register = try registry.verifyRegister()
            checks.append(register.problems.first.map {
                .problem(
                    "register", "\($0); the register was edited outside dkimctl",
                    fix: .verifyRegister, .manual("restore it from the last backup (runbooks/recovery.md)"))
            } ?? .ok("register", "\(register.rowsChecked) rows match the event log, \(register.checksAnchored) DNS checks anchored"))
            checks.append(Self.leaseCheck(try registry.schedulerLease(), at: Date()))
            checks += try keyFileChecks(registry, files: files)
        } catch {
            checks.append(.problem("registry-integrity", "the registry cannot be read: \(error)", fix: Self.restoreRegistry(state)))
        }
        return checks + configurationChecks()
    }

    /// Who leads the schedulers; a lease that ran out unreleased means the leader stopped
    /// without letting go and no follower took over (in real time: leases follow the wall clock).
    static func leaseCheck(_ lease: SchedulerLease?, at now: Date) -> DoctorCheck {
        guard let lease else { return .ok("scheduler-lease", "no scheduler has led yet (the first rotate or scheduler run takes the lead)") }
        let who = LeaderElection.describe(lease)
        if lease.isCurrent(at: now) {
            return .ok(
                "scheduler-lease",
                "\(who) leads; lease renewed \(Int(now.timeIntervalSince(lease.renewedAt).rounded())) s ago, runs until \(Timestamp.iso8601(lease.expiresAt))")
        }
        if let released = lease.releasedAt {
            return .ok("scheduler-lease", "no scheduler leads now: the last, \(who), let go at \(Timestamp.iso8601(released))")
        }
        return .problem(
            "scheduler-lease",
            "the lease of \(who) ran out at \(Timestamp.iso8601(lease.expiresAt)) without being let go: it died or was cut off, and no other scheduler took over",
            fix: .manual("check the leader's host and journal; run the scheduler (or the rotate timer) on a host that shares the registry"))
    }

    static func restoreRegistry(_ state: StateDirectory) -> Remedy {
        .manual("stop cron/scheduler runs, keep the damaged file, then restore \(state.registryPath) from the last backup (runbooks/recovery.md); "
            + "sqlite3 \(state.registryPath) .recover | sqlite3 recovered.sqlite salvages what it can")
    }

    private func mode(_ path: String, what: String, name: String, allowed: mode_t) -> DoctorCheck {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .problem(name, "\(what) \(path) is missing", fix: .initialize(stateDirectory: state.path, withOwner: false))
        }
        let mode = info.st_mode & 0o777
        return mode & ~allowed == 0
            ? .ok(name, "\(what) \(path) has mode 0\(String(mode, radix: 8))")
            : .problem(name, "\(what) \(path) has mode 0\(String(mode, radix: 8)) (expected 0\(String(allowed, radix: 8)) at most)", fix: .manual("chmod \(String(allowed, radix: 8)) \(path)"))
    }

    private func keyFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state.keysPath)) ?? []).sorted().map { state.keysPath + "/" + $0 }
    }

    /// Key files no registry row references, and rows of live keys whose file is gone.
    private func keyFileChecks(_ registry: SQLRegistry, files: [String]) throws -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let keys = try registry.keys(matching: KeyFilter(kinds: [.local]))
        let referenced = Set(keys.compactMap { try? state.privateKeyFile(of: $0) })
        for file in files where !referenced.contains(file) {
            checks.append(.problem(
                "orphan-key-file",
                "\(file) is a key file no registry row references (left by an interrupted key creation; the rotation tick adopts one named for today's selector)",
                fix: .rotate, .manual("otherwise destroy it: shred -u \(file)")))
        }
        for key in keys where [.pending, .published, .active, .retired].contains(key.state) {
            let path: String
            do {
                guard let file = try state.privateKeyFile(of: key), !FileManager.default.fileExists(atPath: file) else { continue }
                path = file
            } catch let error as DKIMError {
                checks.append(.problem("key-file-path", error.message, fix: .verifyRegister, .manual("restore the registry from the last backup (runbooks/recovery.md)")))
                continue
            }
            let message = "key \(key.selector) of \(key.domain) is \(key.state.rawValue) but its file \(path) is gone"
            checks.append(
                key.state == .active
                    ? .problem(
                        "missing-key-file", message, fix: .manual("restore it from backup if you can; otherwise"),
                        .emergencyRotation(selector: key.selector.name, domain: key.domain.ascii, reason: "key file lost"))
                    : .problem(
                        "missing-key-file", message,
                        fix: .revoke(selector: key.selector.name, domain: key.domain.ascii, immediately: true, reason: "key file lost")))
        }
        if checks.isEmpty { checks.append(.ok("key-files", "every key file belongs to a registry row and every live key has its file")) }
        return checks
    }

    private func configurationChecks() -> [DoctorCheck] {
        guard FileManager.default.fileExists(atPath: configurationPath) else {
            return configurationRequired
                ? [.problem("configuration", "\(configurationPath) does not exist", fix: .writeConfiguration(path: configurationPath))]
                : [.ok("configuration", "no configuration file (\(configurationPath)): rotate has nothing to manage")]
        }
        let configuration: LifecycleConfiguration
        do {
            let owner = try? openRegistry().defaultOwner()
            configuration = try ConfigurationFile.load(path: configurationPath, defaultOwner: owner ?? nil, checkEnvironment: true)
        } catch {
            return [.problem("configuration", (error as? DKIMError)?.message ?? "\(error)", fix: .manual("fix the line named"), .checkConfiguration(path: configurationPath))]
        }
        var checks: [DoctorCheck] = [.ok("configuration", "\(configurationPath): \(configuration.domains.count) domain(s), \(configuration.slots.count) slot(s)")]
        if let check = keyEncryptionKeyCheck(configuration.privateKeyStore) { checks.append(check) }
        if let checker {
            for domain in configuration.domains { checks.append(reachability(domain.domain, checker)) }
        }
        return checks
    }

    /// With keys sealed in the registry (or `keyStore: registry`): the configured KEK loads and
    /// opens every sealed key that is not revoked.
    private func keyEncryptionKeyCheck(_ store: PrivateKeyStore) -> DoctorCheck? {
        let name = "key-encryption-key"
        do {
            let registry = try openRegistry()
            let sealed = try registry.keys(matching: KeyFilter(states: [.pending, .published, .active, .retired], kinds: [.local]))
                .filter(\.privateKeyInRegistry)
            guard !sealed.isEmpty || store.kind == .registry else { return nil }
            let kek = try store.kek(for: "opening the \(sealed.count) sealed private key(s)")
            for key in sealed {
                guard case .sealed(let envelope)? = try registry.storedPrivateKey(keyID: key.id) else {
                    return .problem(name, "\(key.selector) (\(key.domain)) is \(key.state.rawValue) but its sealed private key is gone", fix: .verifyRegister)
                }
                _ = try KeyEnvelope.open(
                    envelope, recordName: key.recordName.relative, fingerprint: key.fingerprint, with: kek, subject: "\(key.selector) (\(key.domain))")
            }
            return .ok(name, "key-encryption key \(kek.id) (\(kek.origin)) opens the \(sealed.count) sealed private key(s)")
        } catch {
            return .problem(
                name, (error as? DKIMError)?.message ?? "\(error)",
                fix: .manual("give keyEncryptionKey: the key the private keys were sealed with (its id is in each key.created event)"))
        }
    }

    /// Every authoritative server of the domain's zone answers its SOA.
    private func reachability(_ domain: DomainName, _ checker: PublicationChecker) -> DoctorCheck {
        let name = "dns"
        let zone: String
        let servers: [DNSServer]
        switch checker.authoritativeServers(for: domain.ascii + ".") {
        case .success(let found):
            (zone, servers) = found
        case .failure(.overrideUnanswered(let failure)):
            let first = checker.nameservers[0]
            return .problem(name, "\(domain): \(first) does not answer for it: \(failure.reason)", fix: .manual("dig @\(first.address) -p \(first.port) \(domain) SOA; check dns.nameservers in the configuration"))
        case .failure(.discovery(let error)):
            return .problem(name, "\(domain): \(error.description)", fix: .manual("check the resolver (dns.resolvers, /etc/resolv.conf) and the delegation: dig \(domain) NS"))
        }
        var silent: [String] = []
        for server in servers {
            switch checker.transport.query(zone, .soa, server: server, recursionDesired: false) {
            case .response(let response) where response.rcode == .noError && response.authoritative:
                continue
            case .response(let response):
                silent.append("\(server) (\(response.rcode)\(response.authoritative ? "" : ", not authoritative"))")
            case .failure(let reason):
                silent.append("\(server) (\(reason))")
            }
        }
        guard silent.isEmpty else {
            return .problem(name, "\(domain): zone \(zone): \(silent.joined(separator: ", ")) did not answer its SOA", fix: .manual("dig @ADDRESS \(zone) SOA from this host; open UDP and TCP port 53 to those servers"))
        }
        return .ok(name, "\(domain): zone \(zone), \(servers.count) authoritative server(s) answer")
    }
}
