import Foundation

/// One DMARC aggregate report (RFC 7489 appendix C, RFC 9990): who sent it, the
/// period, the policy the receiver found, and its rows, read one at a time.
public struct AggregateReport: Sendable, Equatable {
    /// `report_metadata/org_name`: who reports (google.com, Yahoo, Outlook.com…).
    public var reporter: String
    /// `report_metadata/report_id`: with the reporter, what makes a report unique.
    public var reportID: String
    public var begin: Date
    public var end: Date
    public var policy: PublishedPolicy
    /// Rows read (each `<record>`) and the messages they count.
    public var rows = 0
    public var messages = 0

    public init(reporter: String, reportID: String, begin: Date, end: Date, policy: PublishedPolicy) {
        self.reporter = reporter
        self.reportID = reportID
        self.begin = begin
        self.end = end
        self.policy = policy
    }

    /// `policy_published`: the DMARC record the receiver applied.
    public struct PublishedPolicy: Sendable, Equatable {
        public var domain = ""
        /// `r` or `s` (relaxed is the default).
        public var adkim: String?
        public var aspf: String?
        public var p: String?
        public var sp: String?
        /// RFC 9990: the policy for non-existent subdomains.
        public var np: String?
        /// RFC 9990 `testing` (`y`/`n`), RFC 7489 has `pct` instead.
        public var testing: String?
        public var pct: Int?

        public init(
            domain: String, adkim: String? = nil, aspf: String? = nil, p: String? = nil, sp: String? = nil, np: String? = nil,
            testing: String? = nil, pct: Int? = nil
        ) {
            (self.domain, self.adkim, self.aspf, self.p, self.sp, self.np, self.testing, self.pct) = (domain, adkim, aspf, p, sp, np, testing, pct)
        }
    }
}

/// One `<record>`: messages from one source IP with the same identifiers and results.
public struct AggregateRow: Sendable, Equatable {
    public var sourceIP = ""
    public var count = 0
    public var headerFrom = ""
    /// The receiver's verdict on DKIM alignment for these messages (`policy_evaluated/dkim`).
    public var evaluatedDKIM: String?
    public var dkim: [DKIMResult] = []

    /// One DKIM signature's result: `d=`, the selector (empty when the receiver did not say:
    /// an unknown selector that never matches one of ours), and the result in lower case.
    public struct DKIMResult: Sendable, Equatable {
        public var domain = ""
        public var selector = ""
        public var result = ""
    }
}
