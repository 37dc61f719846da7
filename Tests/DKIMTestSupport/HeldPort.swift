import Foundation

/// A port the test holds itself: UDP and TCP sockets bound on `address` to a port the
/// kernel chooses, never read and never accepted. A DNS query to it gets no answer (a
/// server that does not answer), and no other server can bind it (a port that is taken),
/// for as long as the value lives. Nothing is probed and released.
public final class HeldPort: @unchecked Sendable {
    // @unchecked Sendable: the descriptors are set once in init and closed once in deinit.
    public let address: String
    public let port: UInt16
    private let descriptors: [Int32]

    public init(address: String = "127.0.0.1") throws {
        self.address = address
        for _ in 0..<20 {
            let udp = try Self.bound(Int32(SOCK_DGRAM.rawValue), address: address, port: 0)
            let port = Self.localPort(udp)
            // TCP on the same port; another process may hold it for TCP only: choose again.
            guard let tcp = try? Self.bound(Int32(SOCK_STREAM.rawValue), address: address, port: port) else {
                close(udp)
                continue
            }
            listen(tcp, 1)
            self.port = port
            descriptors = [udp, tcp]
            return
        }
        throw TestSupportError("no port could be bound for both UDP and TCP on \(address)")
    }

    deinit { descriptors.forEach { close($0) } }

    private static func bound(_ type: Int32, address: String, port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, type, 0)
        guard descriptor >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        inet_pton(AF_INET, address, &socketAddress.sin_addr)
        let result = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TestSupportError("bind \(address):\(port): \(reason)")
        }
        return descriptor
    }

    private static func localPort(_ descriptor: Int32) -> UInt16 {
        var socketAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return UInt16(bigEndian: socketAddress.sin_port)
    }
}
