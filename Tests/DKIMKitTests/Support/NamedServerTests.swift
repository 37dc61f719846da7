import DKIMTestSupport
import Foundation
import Testing

/// The tests' BIND binds its port itself: a taken port is a recognisable failure, which
/// `NamedServer` retries on another port when it chose the port itself.
@Suite struct NamedServerTests {
    @Test func aTakenPortIsAFailureThatNamesIt() throws {
        let held = try HeldPort()
        let port = held.port
        let error = try #require(throws: TestSupportError.self) {
            _ = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org"))], port: port)
        }
        #expect(error.description.contains("unable to listen") || error.description.contains("address in use"), "\(error)")
        // Without a given port the server finds one and starts.
        let server = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org"))])
        #expect(server.port != port)
    }
}
