import DKIMKit
import Testing

@Suite struct ProcessHardeningTests {
    @Test func noCoreFileAndNotDumpable() {
        #expect(ProcessHardening.disableCoreDumps().isEmpty)
        #expect(ProcessHardening.coreFileLimit == 0)
        #expect(!ProcessHardening.isDumpable)
    }
}
