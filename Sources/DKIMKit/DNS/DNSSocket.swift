import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One DNS message exchange with one server over UDP or TCP (RFC 1035 §4.2,
/// RFC 7766), with the checks a resolver makes before it believes a reply.
///
/// The socket is connected to the server's address and port, so the kernel
/// delivers only datagrams from that address and port; it is a fresh socket
/// with a kernel-chosen (random) source port for every attempt. Each datagram
/// is handed to `accept`, which says whether it answers the question that was
/// sent (ID, QR bit, question); a datagram that does not is ignored and the
/// exchange waits for the real reply until the deadline (RFC 5452 §9.1).
enum DNSSocket {
    enum Outcome<Reply> {
        case reply(Reply)
        /// No acceptable reply before the deadline; `ignored` datagrams did not match the query.
        case timeout(ignored: Int)
        case failure(String)
    }

    /// Sends `message` over UDP and waits until `deadline` for a datagram that `accept` takes.
    static func udp<Reply>(
        _ message: [UInt8], to server: DNSServer, deadline: Date, accept: ([UInt8]) -> Reply?
    ) -> Outcome<Reply> {
        guard let address = SocketAddress(server) else { return .failure("'\(server.address)' is not an IP address") }
        let descriptor = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure("cannot open a UDP socket: \(errorText())") }
        defer { close(descriptor) }
        guard address.connect(descriptor) == 0 else { return .failure("cannot reach \(server): \(errorText())") }
        let sent = message.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { return .failure("cannot send to \(server): \(errorText())") }

        var ignored = 0
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while true {
            switch wait(descriptor, for: Int16(POLLIN), until: deadline) {
            case .timeout: return .timeout(ignored: ignored)
            case .failure(let reason): return .failure(reason)
            case .ready: break
            }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNREFUSED { return .failure("connection refused by \(server) (nothing listens there)") }
                return .failure("cannot read from \(server): \(errorText())")
            }
            if let reply = accept(Array(buffer[0..<count])) { return .reply(reply) }
            ignored += 1
        }
    }

    /// Sends `message` over TCP with the two-octet length prefix and reads one
    /// length-prefixed reply, until `deadline`.
    static func tcp<Reply>(
        _ message: [UInt8], to server: DNSServer, deadline: Date, accept: ([UInt8]) -> Reply?
    ) -> Outcome<Reply> {
        guard let address = SocketAddress(server) else { return .failure("'\(server.address)' is not an IP address") }
        let descriptor = socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return .failure("cannot open a TCP socket: \(errorText())") }
        defer { close(descriptor) }
        if address.connect(descriptor) != 0 {
            guard errno == EINPROGRESS else { return .failure("cannot connect to \(server) over TCP: \(errorText())") }
            switch wait(descriptor, for: Int16(POLLOUT), until: deadline) {
            case .timeout: return .timeout(ignored: 0)
            case .failure(let reason): return .failure(reason)
            case .ready: break
            }
            var status: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &status, &length)
            guard status == 0 else { return .failure("cannot connect to \(server) over TCP: \(String(cString: strerror(status)))") }
        }
        guard message.count <= 65_535 else { return .failure("query too long for TCP") }
        let framed = [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
        var offset = 0
        while offset < framed.count {
            switch wait(descriptor, for: Int16(POLLOUT), until: deadline) {
            case .timeout: return .timeout(ignored: 0)
            case .failure(let reason): return .failure(reason)
            case .ready: break
            }
            let written = framed[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure("cannot send to \(server) over TCP: \(errorText())")
            }
            offset += written
        }
        var ignored = 0
        while true {
            let header: [UInt8]
            switch read(exactly: 2, from: descriptor, server: server, until: deadline) {
            case .reply(let bytes): header = bytes
            case .timeout: return .timeout(ignored: ignored)
            case .failure(let reason): return .failure(reason)
            }
            let length = Int(header[0]) << 8 | Int(header[1])
            switch read(exactly: length, from: descriptor, server: server, until: deadline) {
            case .reply(let bytes):
                if let reply = accept(bytes) { return .reply(reply) }
                ignored += 1
            case .timeout: return .timeout(ignored: ignored)
            case .failure(let reason): return .failure(reason)
            }
        }
    }

    private static func read(exactly count: Int, from descriptor: Int32, server: DNSServer, until deadline: Date) -> Outcome<[UInt8]> {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            switch wait(descriptor, for: Int16(POLLIN), until: deadline) {
            case .timeout: return .timeout(ignored: 0)
            case .failure(let reason): return .failure(reason)
            case .ready: break
            }
            let received = bytes[offset...].withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure("cannot read from \(server) over TCP: \(errorText())")
            }
            if received == 0 { return .failure("\(server) closed the TCP connection before a full reply") }
            offset += received
        }
        return .reply(bytes)
    }

    private enum Readiness { case ready, timeout, failure(String) }

    private static func wait(_ descriptor: Int32, for events: Int16, until deadline: Date) -> Readiness {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timeout }
            var request = pollfd(fd: descriptor, events: events, revents: 0)
            let milliseconds = Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
            let result = poll(&request, 1, milliseconds)
            if result < 0 {
                if errno == EINTR { continue }
                return .failure("poll failed: \(errorText())")
            }
            if result > 0 { return .ready }
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// A server's IPv4 or IPv6 socket address.
private struct SocketAddress {
    let family: Int32
    private var storage: sockaddr_storage
    private let length: socklen_t

    init?(_ server: DNSServer) {
        var storage = sockaddr_storage()
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, server.address, &v4) == 1 {
            withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                address.pointee.sin_family = sa_family_t(AF_INET)
                address.pointee.sin_port = server.port.bigEndian
                address.pointee.sin_addr = v4
            }
            (family, self.storage, length) = (AF_INET, storage, socklen_t(MemoryLayout<sockaddr_in>.size))
            return
        }
        if inet_pton(AF_INET6, server.address, &v6) == 1 {
            withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                address.pointee.sin6_port = server.port.bigEndian
                address.pointee.sin6_addr = v6
            }
            (family, self.storage, length) = (AF_INET6, storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
            return
        }
        return nil
    }

    func connect(_ descriptor: Int32) -> Int32 {
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, length) }
        }
    }
}
