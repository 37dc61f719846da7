import DKIMTestSupport
import Foundation
import Testing

/// The tests' BIND: a port taken between probing and binding is a recognisable failure,
/// which `NamedServer` retries on another port when it chose the port itself.
@Suite struct NamedServerTests {
    @Test func aTakenPortIsAFailureThatNamesIt() throws {
        let port = try NamedServer.freePort(on: ["127.0.0.1"])
        let holder = try ProcessRunner.start("/usr/bin/python3", ["-c", """
            import socket, sys, time
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", \(port)))
            t = socket.socket(); t.bind(("127.0.0.1", \(port))); t.listen()
            print("bound", flush=True); time.sleep(60)
            """])
        defer { holder.signal(SIGKILL) }
        usleep(500_000)
        let error = try #require(throws: TestSupportError.self) {
            _ = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org"))], port: port)
        }
        #expect(error.description.contains("unable to listen") || error.description.contains("address in use"), "\(error)")
        // Without a given port the server finds one and starts.
        let server = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org"))])
        #expect(server.port != port)
    }
}
