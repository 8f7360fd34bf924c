/// Why the private test cluster could not be started or used; the message says what to do.
public struct PostgresTestClusterError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
