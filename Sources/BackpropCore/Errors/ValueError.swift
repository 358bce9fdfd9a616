/// A value handed to the library from outside (an option, a parsed text)
/// that it cannot use: which value it is (``field``, a typed key that a
/// caller such as the command-line tool maps to its own names, like a flag)
/// and what is wrong with it (``message``, which names the value itself).
///
/// The library's messages never name a command-line flag; the tool turns
/// `learning rate must be positive, got -1` into an error that names its own flag.
///
/// ```swift
/// do { try options.validate() }
/// catch let e as ValueError where e.field == .learningRate { print(e) }   // learning rate must be positive, got -1
/// ```
public struct ValueError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which value an error is about. An open set: each module declares the
    /// fields it checks as static members (`.learningRate`, `.betas`, ...).
    ///
    /// ```swift
    /// extension ValueError.Field {
    ///     public static let learningRate = ValueError.Field("learning rate")
    /// }
    /// ```
    public struct Field: Hashable, Sendable, CustomStringConvertible {
        /// The value's name in words, as in `learning rate`.
        public let name: String

        /// A field called `name` (in words, for reading; callers match on the field, not the name).
        ///
        /// ```swift
        /// let batchSize = ValueError.Field("batch size")
        /// ```
        public init(_ name: String) { self.name = name }

        /// The name.
        public var description: String { name }
    }

    /// The value that is wrong.
    public let field: Field
    /// What is wrong, naming the value: `learning rate must be positive, got -1`.
    public let message: String

    /// An error about `field`.
    ///
    /// ```swift
    /// throw ValueError(.batchSize, "batch size must be positive, got 0")
    /// ```
    public init(_ field: Field, _ message: String) {
        self.field = field
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
