/// Why one report file was refused; the import goes on with the others.
public enum DMARCReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not XML, gzip or ZIP; a ZIP with no XML inside; compressed data that does not inflate.
    case unreadable(String)
    /// Over a limit: inflated size or ratio, elements, rows, nesting, text length.
    case tooLarge(String)
    /// XML that is not well formed, or not an aggregate report.
    case notAReport(String)
    /// A DTD or an entity the parser will not expand (XXE, billion laughs).
    case unsafe(String)

    public var description: String {
        switch self {
        case .unreadable(let reason), .tooLarge(let reason), .notAReport(let reason), .unsafe(let reason): reason
        }
    }
}

/// The ceilings an import holds every file to.
public struct DMARCReportLimits: Sendable {
    /// Bytes of XML after inflating (a large provider's daily report is a few MiB).
    public var inflatedBytes = 64 << 20
    /// Inflated bytes per compressed byte (report XML compresses 10–40×; a bomb, 1,000×).
    public var ratio = 500
    /// Elements in one report.
    public var elements = 8_000_000
    /// `<record>` rows in one report.
    public var rows = 1_000_000
    /// Nesting depth.
    public var depth = 32
    /// Bytes of one text node.
    public var textBytes = 64 << 10

    public init() {}
}
