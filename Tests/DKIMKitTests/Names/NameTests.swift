import DKIMKit
import Foundation
import Testing

@Suite struct DomainNameTests {
    @Test(arguments: [
        ("example.org", "example.org"),
        ("Example.ORG.", "example.org"),
        ("mail.example.co.uk", "mail.example.co.uk"),
        ("a-b.example", "a-b.example"),
        ("123.example", "123.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        (String(repeating: "a", count: 63) + ".example", String(repeating: "a", count: 63) + ".example"),
    ])
    func validDomainsAreNormalised(input: String, ascii: String) throws {
        #expect(try DomainName(input).ascii == ascii)
    }

    @Test(arguments: [
        ("", "empty"),
        (".", "empty"),
        ("localhost", "single label"),
        ("exa_mple.org", "underscore"),
        ("-example.org", "hyphen"),
        ("example-.org", "hyphen"),
        ("exa mple.org", "' '"),
        ("example..org", "empty label"),
        ("example.org..", "empty label"),
        (String(repeating: "a", count: 64) + ".example", "64 octets"),
        ("example.123", "all digits"),
        ("☃☃.example", "A-label"),
        ("xn--zz.example", "not a valid A-label"),
    ])
    func invalidDomainsAreRefusedNamingTheValue(input: String, reason: String) throws {
        let error = try #require(throws: DKIMError.self) { try DomainName(input) }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("'\(input)'"), "names the value: \(error.message)")
        #expect(error.message.contains(reason), "says why: \(error.message)")
        #expect(!error.message.contains("\n"))
    }

    @Test func theWholeNameIsLimitedTo253Octets() throws {
        let label = String(repeating: "a", count: 63)
        let longest = [label, label, label, String(repeating: "b", count: 57), "org"].joined(separator: ".")
        #expect(longest.utf8.count == 253)
        #expect(try DomainName(longest).ascii == longest)
        let error = try #require(throws: DKIMError.self) { try DomainName("c" + longest) }
        #expect(error.message.contains("254 octets"))
    }
}

@Suite struct SelectorTests {
    @Test(arguments: ["s1", "mailgun-notifications-20261123", "a.b", "Sel-2026", String(repeating: "x", count: 63)])
    func validSelectors(input: String) throws {
        #expect(try Selector(input).name == input.lowercased())
    }

    @Test(arguments: ["", "-s", "s-", "a..b", "s_1", "s 1", "s.", "a/b", String(repeating: "x", count: 64), "sél"])
    func invalidSelectors(input: String) throws {
        let error = try #require(throws: DKIMError.self) { try Selector(input) }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("'\(input)'"))
    }

    @Test func theRecordNameIsLimitedTo253Octets() throws {
        let domain = try DomainName(String(repeating: "d", count: 63) + "." + String(repeating: "e", count: 63) + ".org")
        // selector + "._domainkey." (12) + domain (131) = 253 with a 110-octet selector.
        let fits = try Selector(String(repeating: "s", count: 55) + "." + String(repeating: "t", count: 54))
        let name = try KeyRecordName(selector: fits, domain: domain)
        #expect(name.relative.utf8.count == 253)
        #expect(name.absolute.hasSuffix(".org."))
        let tooLong = try Selector(String(repeating: "s", count: 55) + "." + String(repeating: "t", count: 55))
        let error = try #require(throws: DKIMError.self) { try KeyRecordName(selector: tooLong, domain: domain) }
        #expect(error.message.contains("254 octets"))
    }
}

@Suite struct SelectorPatternTests {
    let date = Timestamp.parse("2026-11-23T23:30:00-05:00")!  // 04:30 on the 24th in UTC

    @Test func theDefaultPatternUsesProviderUsageAndTheUTCDate() throws {
        let selector = try SelectorPattern.default.selector(provider: Provider("mailgun"), usage: Usage("notifications"), date: date)
        #expect(selector.name == "mailgun-notifications-20261124")
    }

    @Test func customProvidersUseTheirNameAndOtherTokensWork() throws {
        let pattern = try SelectorPattern("{yyyy}{mm}.{provider}-{usage}-{dd}")
        let selector = try pattern.selector(provider: Provider("custom:crm"), usage: .default, date: date)
        #expect(selector.name == "202611.crm-default-24")
    }

    @Test func unknownTokensAndInvalidResultsAreRefused() throws {
        #expect(throws: DKIMError.self) { try SelectorPattern("{provider}-{week}") }
        #expect(throws: DKIMError.self) { try SelectorPattern("{provider") }
        let underscores = try SelectorPattern("{provider}_{usage}")
        #expect(throws: DKIMError.self) { try underscores.selector(provider: Provider("brevo"), usage: .default, date: date) }
    }

    @Test func providersUsagesAndOwnersAreChecked() throws {
        #expect(try Provider("Amazon-SES").identifier == "amazon-ses")
        #expect(try Provider("custom:Partner-Relay").selectorToken == "partner-relay")
        for bad in ["mailchimp", "custom:", "custom:a_b", ""] {
            let error = try #require(throws: DKIMError.self) { try Provider(bad) }
            #expect(error.message.contains("mailgun, amazon-ses") || error.message.contains("custom provider"))
        }
        #expect(throws: DKIMError.self) { try Usage("no reply") }
        #expect(throws: DKIMError.self) { try Usage(String(repeating: "u", count: 33)) }
        #expect(throws: DKIMError.self) { try Owner("") }
        #expect(throws: DKIMError.self) { try Owner("a@b@c") }
        #expect(try Owner(" team@example.org ").address == "team@example.org")
    }
}
