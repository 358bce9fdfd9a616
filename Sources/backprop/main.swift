import BackpropCLI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(BackpropCommand.runMain(arguments: Array(CommandLine.arguments.dropFirst())))
