import Foundation

/// A DKIM key record: the TXT data served at `<selector>._domainkey.<domain>`
/// (RFC 6376 §3.6.1), a tag=value list such as `v=DKIM1; k=rsa; p=MIIB…`.
///
/// An empty `p=` means the key has been revoked.
public struct DKIMKeyRecord: Sendable, Equatable {
    /// Field "v": the record version. When present it must be the first tag and equal `DKIM1`.
    public var version: String?
    /// Field "h": hash algorithms the key may be used with (`sha256`); nil allows all.
    public var hashAlgorithms: [String]?
    /// Field "k": the key type, `rsa` (the default when absent) or `ed25519` (RFC 8463).
    public var keyType: String
    /// Field "n": notes for people, decoded from dkim-quoted-printable.
    public var notes: String?
    /// Field "p": the base64 public key; empty when revoked.
    public var publicKey: String
    /// Field "s": service types (`email`, `*`); nil means all.
    public var serviceTypes: [String]?
    /// Field "t": flags, `y` (testing) and `s` (no subdomains in i=).
    public var flags: [String]

    public init(
        version: String? = "DKIM1", hashAlgorithms: [String]? = nil, keyType: String = "rsa",
        notes: String? = nil, publicKey: String, serviceTypes: [String]? = nil, flags: [String] = []
    ) {
        self.version = version
        self.hashAlgorithms = hashAlgorithms
        self.keyType = keyType
        self.notes = notes
        self.publicKey = publicKey
        self.serviceTypes = serviceTypes
        self.flags = flags
    }

    /// An empty `p=`: the key is revoked (RFC 6376 §3.6.1).
    public var isRevoked: Bool { publicKey.isEmpty }
    /// `t=y`: the domain is testing DKIM; verifiers must not treat failures differently.
    public var isTesting: Bool { flags.contains("y") }

    /// The `t=` flags RFC 6376 §3.6.1 defines; verifiers ignore any other.
    public static let knownFlags: Set<String> = ["y", "s"]

    /// The decoded `p=` bytes, or nil when `p=` is empty.
    public var publicKeyBytes: Data? { publicKey.isEmpty ? nil : Data(base64Encoded: publicKey) }

    /// The record text on one line, tags in the conventional order with `p=` last:
    /// `v=DKIM1; h=sha256; k=rsa; s=email; t=y:s; n=…; p=…`.
    public var text: String {
        var text = ""
        text.reserveCapacity(publicKey.utf8.count + 64)
        if let version { text += "v=" + version + "; " }
        if let hashAlgorithms { text += "h=" + hashAlgorithms.joined(separator: ":") + "; " }
        text += "k=" + keyType + "; "
        if let serviceTypes { text += "s=" + serviceTypes.joined(separator: ":") + "; " }
        if !flags.isEmpty { text += "t=" + flags.joined(separator: ":") + "; " }
        if let notes { text += "n=" + DKIMQuotedPrintable.encode(notes) + "; " }
        text += "p=" + publicKey
        return text
    }
}

/// The dkim-quoted-printable encoding of `n=` values (RFC 6376 §2.11).
enum DKIMQuotedPrintable {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            // Printable ASCII other than ";" and "=" goes as is; everything else as =XX.
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: ";"), byte != UInt8(ascii: "=") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "=%02X", byte)
            }
        }
        return out
    }

    static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "=") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else if byte != 0x20, byte != 0x09, byte != 0x0D, byte != 0x0A {
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }
}
