/// A DKIM key type, the `k=` tag of the key record (RFC 6376 §3.6.1, RFC 8463).
public enum KeyAlgorithm: String, Sendable, CaseIterable, Codable {
    case rsa
    case ed25519

    public init(parsing input: String) throws {
        guard let algorithm = KeyAlgorithm(rawValue: input.lowercased()) else {
            throw DKIMError.invalid("algorithm '\(input)' is not supported (allowed: rsa, ed25519)")
        }
        self = algorithm
    }
}

/// What key to generate: an algorithm and, for RSA, a modulus size.
public struct KeySpecification: Sendable, Hashable {
    /// RSA sizes dkimctl generates. 2048 is the default (CCCS ITSP.40.065).
    public static let rsaSizes = [1024, 2048, 3072, 4096]
    public static let defaultRSABits = 2048
    public static let ed25519Bits = 256

    public let algorithm: KeyAlgorithm
    public let bits: Int
    /// Advice to show the user; generation goes ahead.
    public let warnings: [String]

    /// - Parameters:
    ///   - bits: the RSA modulus size; `nil` for the default. Must be `nil` for Ed25519.
    /// - Throws: `DKIMError.invalidInput` when the size is not one dkimctl generates.
    public init(algorithm: KeyAlgorithm, bits: Int? = nil) throws {
        self.algorithm = algorithm
        switch algorithm {
        case .ed25519:
            if let bits {
                throw DKIMError.invalid(
                    "key size \(bits) does not apply to ed25519 (Ed25519 keys are always \(KeySpecification.ed25519Bits) bits; leave the size out)")
            }
            self.bits = KeySpecification.ed25519Bits
            warnings = ["Ed25519 DKIM (RFC 8463) is not verified by every receiver yet; sign with an RSA key alongside it"]
        case .rsa:
            let size = bits ?? KeySpecification.defaultRSABits
            guard KeySpecification.rsaSizes.contains(size) else {
                throw DKIMError.invalid(
                    "RSA key size \(size) is not allowed (allowed: \(KeySpecification.rsaSizes.map(String.init).joined(separator: ", ")); 2048 recommended)")
            }
            self.bits = size
            switch size {
            case 1024:
                warnings = ["1024-bit RSA is only the RFC 8301 minimum; use 2048 unless the provider cannot take it"]
            case 3072, 4096:
                warnings = ["\(size)-bit RSA records are long: many DNS web forms and providers (Amazon SES, Mailgun) refuse them"]
            default:
                warnings = []
            }
        }
    }
}
