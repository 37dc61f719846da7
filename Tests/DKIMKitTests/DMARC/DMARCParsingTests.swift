@testable import DKIMKit
import Foundation
import Testing

/// The aggregate-report reader: XML events, refusals, the report and its rows.
@Suite struct XMLEventReaderTests {
    func events(_ text: String) throws(DMARCReportError) -> [XMLEventReader.Event] {
        var reader = XMLEventReader(Array(text.utf8), limits: DMARCReportLimits())
        var events: [XMLEventReader.Event] = []
        while let event = try reader.next() { events.append(event) }
        return events
    }

    func refusal(_ text: String, limits: DMARCReportLimits = DMARCReportLimits()) -> DMARCReportError? {
        var reader = XMLEventReader(Array(text.utf8), limits: limits)
        do {
            while try reader.next() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test func prefixesDropCharacterReferencesDecodeCDATAIsText() throws {
        let parsed = try events(
            "\u{FEFF}<?xml version='1.0'?><!-- c --><d:feedback xmlns:d=\"urn:x\" a='1'><d:a>x &amp; &lt;y&gt; &#65;&#x42;</d:a><b/><c><![CDATA[<raw>]]></c></d:feedback>")
        #expect(parsed == [
            .start("feedback"), .start("a"), .text("x & <y> AB"), .end("a"), .start("b"), .end("b"), .start("c"), .text("<raw>"), .end("c"),
            .end("feedback"),
        ])
    }

    @Test(arguments: [
        ("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>", "DTD"),
        ("<r>&lol;</r>", "entity &lol;"),
        ("<r><a></r>", "closes <a>"),
        ("<r><a>text", "truncated"),
        ("<r><a", "truncated"),
        ("<r/><s/>", "second root"),
        ("", "no root element"),
        ("<r>a & b</r>", "bare '&'"),
        ("<r>&#xD800;</r>", "invalid character reference"),
    ])
    func malformedOrUnsafeXMLIsRefused(_ text: String, reason: String) {
        let error = refusal(text)
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func limitsHold() {
        var limits = DMARCReportLimits()
        limits.depth = 3
        #expect(refusal("<a><b><c><d/></c></b></a>", limits: limits)?.description.contains("nested more than 3") == true)
        limits = DMARCReportLimits()
        limits.elements = 3
        #expect(refusal("<a><b/><b/><b/></a>", limits: limits)?.description.contains("more than 3 elements") == true)
        limits = DMARCReportLimits()
        limits.textBytes = 4
        #expect(refusal("<a>12345</a>", limits: limits)?.description.contains("text of 5 bytes") == true)
    }
}

@Suite struct AggregateReportParserTests {
    static let report = """
        <?xml version="1.0"?>
        <feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
          <version>1.0</version>
          <report_metadata><org_name>Yahoo</org_name><report_id> y-1 </report_id>
            <date_range><begin>1795305600</begin><end>1795391999</end></date_range></report_metadata>
          <policy_published><domain>Example.ORG</domain><adkim>s</adkim><p>reject</p><sp>quarantine</sp><np>reject</np><testing>n</testing>
            <discovery_method>treewalk</discovery_method></policy_published>
          <record><row><source_ip>192.0.2.9</source_ip><count>7</count></row>
            <identifiers><header_from>example.org</header_from></identifiers>
            <auth_results>
              <dkim><domain>example.org</domain><result>PASS</result></dkim>
              <dkim><domain>other.example</domain><selector>s2</selector><result>weird</result></dkim>
              <dkim><domain>example.org</domain><selector></selector></dkim>
            </auth_results><extension><anything>1</anything></extension></record>
        </feedback>
        """

    @Test func bothSchemasFieldByField() throws {
        var rows: [AggregateRow] = []
        let report = try #require(try AggregateReportParser.parse(Array(Self.report.utf8), limits: DMARCReportLimits()) { _, row in rows.append(row) })
        #expect(report.reporter == "Yahoo" && report.reportID == "y-1")
        #expect(report.begin == Date(timeIntervalSince1970: 1_795_305_600) && report.end == Date(timeIntervalSince1970: 1_795_391_999))
        #expect(report.policy == AggregateReport.PublishedPolicy(domain: "example.org", adkim: "s", aspf: nil, p: "reject", sp: "quarantine", np: "reject", testing: "n", pct: nil))
        #expect(report.rows == 1 && report.messages == 7)
        #expect(rows.count == 1)
        #expect(rows[0].sourceIP == "192.0.2.9" && rows[0].count == 7 && rows[0].headerFrom == "example.org")
        // A missing or empty selector is empty (never a match); unknown results are "unknown".
        #expect(rows[0].dkim == [
            .init(domain: "example.org", selector: "", result: "pass"),
            .init(domain: "other.example", selector: "s2", result: "unknown"),
            .init(domain: "example.org", selector: "", result: "unknown"),
        ])
    }

    /// Asked once the metadata is read, `skip` ends the reading before the first row.
    @Test func aReportToSkipIsNotReadFurther() throws {
        var asked: [String] = []
        var rows = 0
        let report = try AggregateReportParser.parse(Array(Self.report.utf8), limits: DMARCReportLimits(), skip: { asked.append($0.reportID); return true }) { _, _ in rows += 1 }
        #expect(report == nil && asked == ["y-1"] && rows == 0)
    }

    @Test func notAnAggregateReportIsRefused() {
        #expect(throws: DMARCReportError.notAReport("the root element is <html>, not <feedback>")) {
            _ = try AggregateReportParser.parse(Array("<html><body/></html>".utf8), limits: DMARCReportLimits()) { _, _ in }
        }
        #expect(throws: DMARCReportError.notAReport("no report_metadata/org_name: not a DMARC aggregate report")) {
            _ = try AggregateReportParser.parse(Array("<feedback><record/></feedback>".utf8), limits: DMARCReportLimits()) { _, _ in }
        }
    }
}

/// Organisational domains and alignment from Debian's Public Suffix List.
@Suite struct PublicSuffixListTests {
    @Test(arguments: [
        ("mail.example.org", "example.org"), ("example.org", "example.org"), ("a.b.example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"), ("www.city.kawasaki.jp", "city.kawasaki.jp"), ("a.b.foo.kawasaki.jp", "b.foo.kawasaki.jp"),
        ("Mail.Example.COM", "example.com"), ("host.unknowntld", "host.unknowntld"),
    ])
    func organisationalDomains(_ domain: String, _ expected: String) throws {
        #expect(try PublicSuffixList.system().organisationalDomain(of: domain) == expected)
    }

    @Test func alignment() throws {
        let list = try PublicSuffixList.system()
        #expect(list.aligned(dkimDomain: "mail.example.org", fromDomain: "example.org", strict: false))
        #expect(!list.aligned(dkimDomain: "mail.example.org", fromDomain: "example.org", strict: true))
        #expect(list.aligned(dkimDomain: "example.org", fromDomain: "EXAMPLE.org", strict: true))
        #expect(!list.aligned(dkimDomain: "example.co.uk", fromDomain: "other.co.uk", strict: false))
        #expect(!list.aligned(dkimDomain: "", fromDomain: "example.org", strict: false))
    }
}

@Suite struct DMARCRecordTests {
    @Test func tagsAndDefaults() throws {
        let record = try #require(DMARCRecord.parse("v=DMARC1; p=Reject; sp=quarantine; np=reject; adkim=s; rua=mailto:a@example.org, mailto:b@example.net"))
        #expect(record.p == "reject" && record.sp == "quarantine" && record.np == "reject" && record.adkim == "s" && record.aspf == "r")
        #expect(record.rua == ["mailto:a@example.org", "mailto:b@example.net"])
        let bare = try #require(DMARCRecord.parse("v=DMARC1"))
        #expect(bare.p == "none" && bare.adkim == "r" && bare.sp == nil && bare.rua.isEmpty)
        #expect(DMARCRecord.parse("p=reject; v=DMARC1") == nil, "v=DMARC1 must come first")
        #expect(DMARCRecord.parse("v=spf1 -all") == nil)
    }
}
