// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "dkimctl",
    products: [
        .library(name: "DKIMKit", targets: ["DKIMKit"]),
        .executable(name: "dkimctl", targets: ["dkimctl"]),
    ],
    dependencies: [
        // Versions pinned to what the machine's package mirror holds.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The registry on PostgreSQL (fleets): the client, its event loops and TLS.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // libcrypto (OpenSSL 3): key generation, PEM/DER, signatures, SHA-256.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // libidn2: IDNA2008 conversion of internationalised domain names to A-labels.
        .systemLibrary(name: "CIDN2", pkgConfig: "libidn2", providers: [.apt(["libidn2-dev"])]),
        // NLnet Labs ldns: DNS queries to a given server, TCP fallback, UPDATE with TSIG.
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        // prctl(2) and setrlimit(2): no core dump of a process holding private keys.
        .systemLibrary(name: "CProcess"),
        // zlib: gzip and ZIP (deflate) DMARC aggregate reports, inflated with limits.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The registry's connection settings GRDB cannot make (sqlite3_db_config is variadic)
        // and a VFS that skips a wasted directory sync, on the libsqlite3 GRDB uses.
        .target(name: "CSQLiteShim", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "DKIMKit",
            dependencies: [
                "COpenSSL",
                "CProcess",
                "CSQLiteShim",
                "CZlib",
                "CIDN2",
                "CLDNS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["README.md"],
            plugins: ["EmbedTemplates"]
        ),
        // Build-time tool and plugin that embed Templates/ into DKIMKit, so the binary stands alone.
        .executableTarget(name: "TemplateEmbedder"),
        .plugin(name: "EmbedTemplates", capability: .buildTool(), dependencies: ["TemplateEmbedder"]),
        .executableTarget(
            name: "dkimctl",
            dependencies: [
                "DKIMKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "DKIMTestSupport", dependencies: ["DKIMKit"], path: "Tests/DKIMTestSupport", exclude: ["hostile_dns.py", "parsedmarc_totals.py"]),
        .testTarget(
            name: "DKIMKitTests",
            dependencies: ["DKIMKit", "DKIMTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "DKIMCtlTests", dependencies: ["DKIMKit", "DKIMTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
