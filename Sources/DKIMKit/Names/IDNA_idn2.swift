internal import CIDN2

/// IDNA2008 conversions through GNU libidn2 (the only file importing CIDN2).
enum IDNA {
    struct Failure: Error {
        let reason: String
    }

    /// Converts a Unicode domain name to its A-label form (`bücher.example` → `xn--bcher-kva.example`),
    /// with the UTS #46 non-transitional mapping browsers and mail software use.
    static func toASCII(_ name: String) throws -> String {
        var output: UnsafeMutablePointer<CChar>?
        let flags = Int32(IDN2_NONTRANSITIONAL.rawValue | IDN2_NFC_INPUT.rawValue)
        let status = idn2_to_ascii_8z(name, &output, flags)
        guard status == Int32(IDN2_OK.rawValue), let output else {
            throw Failure(reason: String(cString: idn2_strerror(status)))
        }
        defer { dkimctl_idn2_free(output) }
        return String(cString: output)
    }

    /// Whether an `xn--` label decodes to a valid IDNA2008 U-label.
    static func isValidALabel(_ label: String) -> Bool {
        var output: UnsafeMutablePointer<CChar>?
        let status = idn2_to_unicode_8z8z(label, &output, 0)
        defer { if let output { dkimctl_idn2_free(output) } }
        guard status == Int32(IDN2_OK.rawValue), let output else { return false }
        // Round-trip: the decoded U-label must encode back to the same A-label.
        guard let again = try? toASCII(String(cString: output)) else { return false }
        return again == label.lowercased()
    }
}
