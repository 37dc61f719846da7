import Foundation

/// Turns the decoded file into domain types, checking every value and
/// naming the key of each problem.
struct ConfigurationBuilder {
    let document: ConfigurationDocument
    let checkEnvironment: Bool
    var defaultOwner: Owner? = nil

    init(document: ConfigurationDocument, checkEnvironment: Bool, defaultOwner: Owner? = nil) {
        self.document = document
        self.checkEnvironment = checkEnvironment
        self.defaultOwner = defaultOwner
    }

    /// Runs `body`, turning a `DKIMError` into one located at `path`.
    private func at<T>(_ path: [ConfigurationPath], _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DKIMError {
            throw document.error(path, error.message)
        }
    }

    func build(_ raw: RawFile) throws -> LifecycleConfiguration {
        var configuration = LifecycleConfiguration()
        configuration.dns = try dnsSettings(raw.dns)
        configuration.providers = try providerCatalog(raw.providers)
        if let templates = raw.templates {
            guard templates.hasPrefix("/") else {
                throw document.error([.key("templates")], "template directory '\(templates)' is not an absolute path")
            }
            if checkEnvironment {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: templates, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw document.error([.key("templates")], "template directory '\(templates)' does not exist")
                }
            }
            configuration.templateDirectory = templates
        }
        if let retention = raw.reports?.retention {
            let path: [ConfigurationPath] = [.key("reports"), .key("retention")]
            let span = try at(path) { try TimeSpan(parsing: retention) }
            guard span.seconds >= 7 * 86400 else {
                throw document.error(path, "retention \(span) is shorter than a week (allowed: 7d or more; revokeAfterUnused and the audit read the reports)")
            }
            configuration.reportRetention = span
        }
        if let registrySlots = raw.registrySlots {
            let path: [ConfigurationPath] = [.key("registrySlots")]
            configuration.registryPublisher = try publisher(registrySlots.publisher, at: path + [.key("publisher")])
            if case .zonefile(let file, _) = configuration.registryPublisher, !(file as NSString).lastPathComponent.contains("{domain}") {
                throw document.error(
                    path + [.key("publisher"), .key("path")],
                    "zone fragment '\(file)' would be shared by every domain of the registry, each run overwriting the others' records (put {domain} in the file name, e.g. /etc/bind/dkim/{domain}.zone)")
            }
            if let deploy = registrySlots.deploy {
                try checkCommand(deploy, at: path + [.key("deploy")], what: "deploy command")
                configuration.registryDeploy = deploy
            }
        }
        configuration.privateKeyStore = try privateKeyStore(raw)
        if let registry = raw.registry {
            guard PostgresSettings.isURL(registry) else {
                throw document.error([.key("registry")], "registry '\(registry)' is not a postgres:// URL (leave registry: out for the state directory's SQLite file)")
            }
            configuration.registry = registry
        }
        let defaults = raw.defaults ?? SlotOptions()
        configuration.slotDefaults = defaults
        configuration.defaultOwner = defaultOwner
        var seen: [DomainName: String] = [:]
        let order = document.node(at: [.key("domains")])?.mapping?.keys.compactMap(\.string) ?? []
        for name in order {
            guard let rawDomain = raw.domains?[name] else { continue }
            let path: [ConfigurationPath] = [.key("domains"), .key(name)]
            let domain = try at(path) { try DomainName(name) }
            if let previous = seen[domain] {
                throw document.error(path, "domain \(domain) is configured twice (also as '\(previous)')")
            }
            seen[domain] = name
            var configured = DomainConfiguration(domain: domain)
            configured.publisher = try publisher(rawDomain.publisher, at: path + [.key("publisher")])
            if let deploy = rawDomain.deploy {
                try checkCommand(deploy, at: path + [.key("deploy")], what: "deploy command")
                configured.deploy = deploy
            }
            var slotNames: Set<String> = []
            for (index, rawSlot) in (rawDomain.slots ?? []).enumerated() {
                let slotPath = path + [.key("slots"), .index(index)]
                let slot = try SlotPolicyBuilder(locator: document, defaultOwner: defaultOwner)
                    .policy(rawSlot, defaults: defaults, domain: domain, catalog: configuration.providers, at: slotPath)
                guard slotNames.insert("\(slot.provider)/\(slot.usage)").inserted else {
                    throw document.error(slotPath, "slot \(slot.provider)/\(slot.usage) is configured twice for \(domain)")
                }
                configured.slots.append(slot)
            }
            configuration.domains.append(configured)
        }
        return configuration
    }

    /// The built-in profiles plus the `providers:` section's `custom:NAME` ones.
    private func providerCatalog(_ raw: [String: RawProvider]?) throws -> ProviderCatalog {
        let names = document.node(at: [.key("providers")])?.mapping?.keys.compactMap(\.string) ?? []
        var custom: [ProviderProfile] = []
        for name in names {
            guard let entry = raw?[name] else { continue }
            let path: [ConfigurationPath] = [.key("providers"), .key(name)]
            if Provider.builtInIdentifiers.contains(name.lowercased()) {
                throw document.error(path, "built-in provider '\(name)' cannot be redefined (describe a custom provider under another name)")
            }
            let provider = try at(path) { try Provider(name.hasPrefix(Provider.customPrefix) ? name : Provider.customPrefix + name) }
            let generates = entry.generates ?? (entry.managed == nil ? "local" : "provider")
            guard ["local", "provider", "both"].contains(generates) else {
                throw document.error(path + [.key("generates")], "generates '\(generates)' is not known (allowed: local, provider, both)")
            }
            var localKeys: ProviderProfile.LocalKeys?
            if generates != "provider" {
                let algorithms = try (entry.algorithms ?? ["rsa"]).map { text in
                    try at(path + [.key("algorithms")]) { try KeyAlgorithm(parsing: text) }
                }
                let bits = entry.bits ?? [KeySpecification.defaultRSABits]
                for size in bits where !KeySpecification.rsaSizes.contains(size) {
                    throw document.error(
                        path + [.key("bits")],
                        "RSA key size \(size) is not allowed (allowed: \(KeySpecification.rsaSizes.map(String.init).joined(separator: ", ")))")
                }
                if let maximum = entry.maxSelectorLength, !(1...63).contains(maximum) {
                    throw document.error(path + [.key("maxSelectorLength")], "maxSelectorLength \(maximum) is out of range (allowed: 1–63)")
                }
                localKeys = .init(
                    algorithms: algorithms, rsaBits: bits, maximumSelectorLength: entry.maxSelectorLength,
                    singleLabelSelector: entry.singleLabelSelector ?? false, handoff: entry.handoff)
            } else if entry.algorithms != nil || entry.bits != nil {
                throw document.error(path + [.key(entry.algorithms != nil ? "algorithms" : "bits")], "a provider that generates its own keys takes no algorithms or bits")
            }
            var managed: [ProviderProfile.ManagedSelectors] = []
            if generates != "local" {
                let styleText = entry.managed ?? "txt"
                guard let style = ProviderProfile.RecordStyle(rawValue: styleText) else {
                    throw document.error(path + [.key("managed")], "managed '\(styleText)' is not known (allowed: txt, cname)")
                }
                let selectors = try (entry.selectors ?? []).map { text in try at(path + [.key("selectors")]) { try Selector(text).name } }
                managed = [.init(style: style, selectors: selectors, targetSuffixes: entry.targetSuffixes ?? [], convention: "as configured")]
            }
            custom.append(
                ProviderProfile(
                    provider: provider, displayName: entry.name ?? provider.selectorToken, localKeys: localKeys, managed: managed,
                    signsOnOwnMTA: entry.mta ?? false, notes: entry.notes ?? "described in the configuration"))
        }
        return ProviderCatalog(custom: custom)
    }

    private func publisher(_ raw: RawPublisher?, at path: [ConfigurationPath]) throws -> PublisherConfiguration {
        guard let raw else { return .manual }
        guard let allowed = RawPublisher.keysByType[raw.type] else {
            throw document.error(
                path + [.key("type")],
                "publisher type '\(raw.type)' is not known (allowed: \(RawPublisher.keysByType.keys.sorted().joined(separator: ", ")))")
        }
        let given: [(String, Bool)] = [
            ("path", raw.path != nil), ("reload", raw.reload != nil), ("command", raw.command != nil), ("server", raw.server != nil),
            ("zone", raw.zone != nil), ("timeout", raw.timeout != nil), ("tsig", raw.tsig != nil),
        ]
        for (key, present) in given where present && !allowed.contains(key) {
            throw document.error(
                path + [.key(key)],
                "'\(key)' does not apply to publisher type \(raw.type) (allowed: \(allowed.isEmpty ? "nothing but type" : allowed.sorted().joined(separator: ", ")))")
        }
        func required(_ value: String?, _ key: String) throws -> String {
            guard let value, !value.isEmpty else {
                throw document.error(path, "publisher type \(raw.type) needs '\(key)'")
            }
            return value
        }
        switch raw.type {
        case "zonefile":
            let file = try required(raw.path, "path")
            guard file.hasPrefix("/") else {
                throw document.error(path + [.key("path")], "zone fragment path '\(file)' must be absolute")
            }
            if checkEnvironment {
                let directory = (file as NSString).deletingLastPathComponent
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw document.error(path + [.key("path")], "directory \(directory) of the zone fragment does not exist")
                }
            }
            if let reload = raw.reload { try checkCommand(reload, at: path + [.key("reload")], what: "reload command") }
            return .zonefile(path: file, reload: raw.reload)
        case "command":
            let command = try required(raw.command, "command")
            try checkCommand(command, at: path + [.key("command")], what: "publisher command")
            return .command(command)
        case "rfc2136":
            let serverText = try required(raw.server, "server")
            let server = try at(path + [.key("server")]) { try DNSServer(parsing: serverText) }
            guard let tsig = raw.tsig else { throw document.error(path, "publisher type rfc2136 needs 'tsig' { name, algorithm, secretFile }") }
            let tsigPath = path + [.key("tsig")]
            let algorithm = tsig.algorithm ?? "hmac-sha256"
            guard TSIGKey.algorithms.contains(algorithm) else {
                throw document.error(
                    tsigPath + [.key("algorithm")],
                    "TSIG algorithm '\(algorithm)' is not supported (allowed: \(TSIGKey.algorithms.joined(separator: ", ")))")
            }
            let keyName = tsig.name.lowercased().hasSuffix(".") ? String(tsig.name.lowercased().dropLast()) : tsig.name.lowercased()
            let labels = keyName.split(separator: ".", omittingEmptySubsequences: false)
            guard !keyName.isEmpty, keyName.utf8.count <= 253,
                labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } })
            else {
                throw document.error(tsigPath + [.key("name")], "TSIG key name '\(tsig.name)' is not a valid key name (allowed: DNS labels of letters, digits, '-' and '_', e.g. dkimctl or dkimctl.example.org)")
            }
            var secret = ""
            if checkEnvironment {
                secret = try at(tsigPath + [.key("secretFile")]) { try TSIGSecretFile.read(tsig.secretFile) }
            }
            let timeout = raw.timeout ?? 5
            if let problem = DNSQueryOptions.problem(timeout: timeout) { throw document.error(path + [.key("timeout")], problem) }
            let zone = try raw.zone.map { text in try at(path + [.key("zone")]) { try DomainName(text).ascii } }
            return .rfc2136(RFC2136Settings(server: server, zone: zone, key: TSIGKey(name: keyName, algorithm: algorithm, secret: secret), timeout: timeout))
        default:
            return .manual
        }
    }

    private func dnsSettings(_ raw: RawDNS?) throws -> DNSSettings {
        var settings = DNSSettings()
        guard let raw else { return settings }
        let path: [ConfigurationPath] = [.key("dns")]
        settings.nameservers = try (raw.nameservers ?? []).enumerated().map { index, text in
            try at(path + [.key("nameservers"), .index(index)]) { try DNSServer(parsing: text) }
        }
        settings.resolvers = try (raw.resolvers ?? []).enumerated().map { index, text in
            try at(path + [.key("resolvers"), .index(index)]) { try DNSServer(parsing: text) }
        }
        if let port = raw.authoritativePort {
            guard (1...65535).contains(port) else {
                throw document.error(path + [.key("authoritativePort")], "port \(port) is out of range (allowed: 1–65535)")
            }
            settings.authoritativePort = UInt16(port)
        }
        if let timeout = raw.timeout {
            if let problem = DNSQueryOptions.problem(timeout: timeout) { throw document.error(path + [.key("timeout")], problem) }
            settings.timeout = timeout
        }
        if let retries = raw.retries {
            if let problem = DNSQueryOptions.problem(retries: retries) { throw document.error(path + [.key("retries")], problem) }
            settings.retries = retries
        }
        return settings
    }

    /// A hook must name a program that exists: an absolute path that is executable, or a name on `PATH`.
    /// `keyStore:` and `keyEncryptionKey:`. The KEK itself is read when a key is first sealed
    /// or opened; a file or credential is read here already when the environment is checked.
    private func privateKeyStore(_ raw: RawFile) throws -> PrivateKeyStore {
        var loader: KeyEncryptionKeyLoader?
        if let kek = raw.keyEncryptionKey {
            let path: [ConfigurationPath] = [.key("keyEncryptionKey")]
            let given = [kek.file.map(KeyEncryptionKeySource.file), kek.credential.map(KeyEncryptionKeySource.credential),
                         kek.command.map(KeyEncryptionKeySource.command)].compactMap { $0 }
            guard given.count == 1 else {
                throw document.error(path, "give exactly one of file, credential or command (found \(given.count))")
            }
            let source = given[0]
            switch source {
            case .file(let file):
                guard file.hasPrefix("/") else { throw document.error(path + [.key("file")], "key-encryption key file '\(file)' is not an absolute path") }
                if checkEnvironment { _ = try at(path + [.key("file")]) { try source.load() } }
            case .credential(let name):
                guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                    throw document.error(path + [.key("credential")], "credential name '\(name)' is not a file name (allowed: a name without '/', as in LoadCredential=NAME:…)")
                }
            case .command(let command):
                try checkCommand(command, at: path + [.key("command")], what: "key-encryption key command")
            }
            loader = KeyEncryptionKeyLoader(source)
        }
        var kind = PrivateKeyStore.Kind.files
        if let text = raw.keyStore {
            guard let named = PrivateKeyStore.Kind(rawValue: text) else {
                throw document.error([.key("keyStore")], "key store '\(text)' is not known (allowed: \(PrivateKeyStore.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kind = named
        }
        if kind == .registry, loader == nil {
            throw document.error([.key("keyStore")], "keyStore: registry seals keys under a key-encryption key; add keyEncryptionKey: with file, credential or command")
        }
        return PrivateKeyStore(kind: kind, keyEncryptionKey: loader)
    }

    private func checkCommand(_ command: String, at path: [ConfigurationPath], what: String) throws {
        guard let program = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) else {
            throw document.error(path, "\(what) is empty")
        }
        guard checkEnvironment else { return }
        if ShellCommand.findProgram(program) == nil {
            throw document.error(path, "\(what) '\(program)' was not found (not an executable file\(program.contains("/") ? "" : " on PATH"))")
        }
    }
}
