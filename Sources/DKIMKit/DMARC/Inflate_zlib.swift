import Foundation
internal import CZlib

/// Inflates gzip and raw-deflate (ZIP) data with a ceiling on the output: a bomb is
/// refused as soon as it passes the ceiling, never inflated whole.
enum Inflate {
    enum Format {
        /// RFC 1952 gzip, one member or several.
        case gzip
        /// RFC 1951 deflate without a header, as ZIP stores it.
        case rawDeflate
    }

    /// The inflated bytes, or a one-line reason.
    /// - Parameters:
    ///   - limit: the most bytes the output may hold.
    ///   - ratio: the most output bytes per input byte (a compressed report is rarely over 30).
    static func inflate(_ input: Data, format: Format, limit: Int, ratio: Int) -> Result<Data, DMARCReportError> {
        var stream = z_stream()
        let windowBits: Int32 = format == .gzip ? 15 + 16 : -15
        guard dkimctl_inflate_init(&stream, windowBits) == Z_OK else { return .failure(.unreadable("zlib could not start")) }
        defer { inflateEnd(&stream) }
        let ceiling = min(limit, max(1 << 20, input.count.multipliedReportingOverflow(by: ratio).overflow ? limit : input.count * ratio))
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        return input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<Data, DMARCReportError> in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress, !input.isEmpty else { return .failure(.unreadable("empty compressed data")) }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > ceiling {
                    return .failure(.tooLarge("inflates to more than \(ceiling) bytes (\(input.count) compressed; allowed: at most \(limit) bytes and \(ratio)× the compressed size)"))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // gzip allows several members one after another.
                    if format == .gzip, stream.avail_in > 0 {
                        guard inflateReset(&stream) == Z_OK else { return .failure(.unreadable("corrupt gzip member")) }
                        continue
                    }
                    return .success(output)
                case Z_OK:
                    if stream.avail_in == 0, produced == 0 { return .failure(.unreadable("compressed data is truncated")) }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 { return .failure(.unreadable("compressed data is truncated")) }
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .failure(.unreadable("corrupt compressed data: \(reason)"))
                }
            }
        }
    }
}
