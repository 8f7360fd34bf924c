import GlimpseCore

/// Where the Compute API keeps flavors and servers. Every mutation of a server goes through `updateServer`, whose
/// body runs inside one transaction, so a state check and the state change it guards are atomic (compare-and-set).
public protocol ComputeStore: Sendable {
    func flavors() async throws -> [Flavor]
    func flavor(id: String) async throws -> Flavor?
    /// 409 when the id or the name is taken.
    func insertFlavor(_ flavor: Flavor) async throws
    /// False when there was no such flavor.
    func deleteFlavor(id: String) async throws -> Bool

    /// Stores a new server; the returned record carries its serial.
    func insertServer(_ server: ServerRecord) async throws -> ServerRecord
    func server(id: String) async throws -> ServerRecord?
    /// Servers of one project (all when nil), newest first.
    func servers(projectID: String?) async throws -> [ServerRecord]
    /// Runs `body` on the current record in one transaction and stores the result; 404 when the server is gone.
    /// An error thrown by `body` leaves the record unchanged.
    func updateServer(id: String, _ body: @Sendable (inout ServerRecord) throws -> Void) async throws -> ServerRecord
    /// Removes the server; nil when there was none.
    func deleteServer(id: String) async throws -> ServerRecord?
    /// How many servers were built from `imageID` (their disks may depend on its cached base file).
    func serverCount(usingImage imageID: String) async throws -> Int
}
