import DKIMKit
import Foundation
import Testing

/// The audit reads algorithm and size from the stored public key with a small DER
/// walk; it must agree with OpenSSL on real keys and refuse anything else.
@Suite struct PublicKeyFactsTests {
    @Test(arguments: [1024, 2048, 3072])
    func rsaSizesAgreeWithOpenSSL(bits: Int) throws {
        let pair = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: bits))
        let facts = try #require(PublicKeyInfo.facts(dkimPublicKey: pair.publicKeyBytes))
        #expect(facts.algorithm == .rsa && facts.bits == pair.bits && facts.bits == bits)
        #expect(try PublicKeyInfo.bits(algorithm: .rsa, dkimPublicKey: pair.publicKeyBytes) == facts.bits)
    }

    @Test func ed25519IsThirtyTwoOctets() throws {
        let pair = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        let facts = try #require(PublicKeyInfo.facts(dkimPublicKey: pair.publicKeyBytes))
        #expect(facts.algorithm == .ed25519 && facts.bits == 256)
    }

    @Test func anythingElseIsNotAKey() throws {
        let rsa = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: 1024)).publicKeyBytes
        var flipped = rsa
        flipped[8] ^= 0x01  // inside the algorithm identifier
        for bytes in [Data(), Data([0x30]), Data(repeating: 0x30, count: 64), rsa.dropLast(), rsa + Data([0x00]), flipped,
                      Data([0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF])] {
            #expect(PublicKeyInfo.facts(dkimPublicKey: bytes) == nil, "\(bytes as NSData)")
        }
    }
}
