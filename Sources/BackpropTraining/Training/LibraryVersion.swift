/// The library's version (`Backprop.version` re-exports it). It lives in this module so that a
/// distributed run's start-up agreement can compare it across ranks: hosts running different
/// builds stop at once instead of training apart.
///
/// ```swift
/// print(backpropLibraryVersion)   // 0.2.0
/// ```
public let backpropLibraryVersion = "0.2.0"
