import DKIMKit
import Foundation

/// The stores the registry runs on, for tests that must hold on both: SQLite in memory,
/// and a fresh database on the shared real PostgreSQL server (`PostgresServer`).
public enum RegistryBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// An empty, migrated registry.
    public func freshRegistry() throws -> SQLRegistry {
        switch self {
        case .sqlite: try SQLRegistry.inMemory()
        case .postgres: try SQLRegistry.open(postgres: PostgresSettings(url: try PostgresServer.shared().createDatabase()))
        }
    }
}
