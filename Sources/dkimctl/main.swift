DKIMCtl.main(CommandLine.arguments.dropFirst().map { $0 })
