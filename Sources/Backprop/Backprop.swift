/// The library's version, printed by `backprop --version`.
public let version = "0.2.0"
