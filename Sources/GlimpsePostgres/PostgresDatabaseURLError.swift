/// A `--database` URL or password source that cannot be used; the message says how to fix it.
public struct PostgresDatabaseURLError: Error, CustomStringConvertible, Equatable {
    public var description: String

    init(_ description: String) { self.description = description }
}
