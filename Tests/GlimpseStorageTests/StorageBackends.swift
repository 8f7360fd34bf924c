import Foundation
import GlimpseCore
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseStorage
import Logging

/// The backends every storage contract test runs against. A new backend (PostgreSQL, S3) joins by adding a case.
enum MetadataBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    /// A fresh database in the test process's private cluster (`PostgresTestCluster`); fails, naming
    /// scripts/install-prerequisites, when PostgreSQL is not installed.
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store plus a way to reopen the same data (to check durability).
    func make() async throws -> (store: any MetadataStore, reopen: @Sendable () async throws -> any MetadataStore) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make() + "/meta.sqlite"
            return (try SQLiteMetadataStore(path: path), { try SQLiteMetadataStore(path: path) })
        case .postgres:
            let database = try await PostgresTestCluster.shared.makeDatabase().configuration
            let logger = Logger(label: "glimpse.test.postgres")
            return (
                try await PostgresMetadataStore.open(database, logger: logger),
                { try await PostgresMetadataStore.open(database, logger: logger) }
            )
        }
    }
}

/// The `ComputeStore` backends the compute contract runs against.
enum ComputeBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    func make() async throws -> (store: any ComputeStore, reopen: @Sendable () async throws -> any ComputeStore) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make() + "/compute.sqlite"
            return (try SQLiteComputeStore(path: path), { try SQLiteComputeStore(path: path) })
        case .postgres:
            let database = try await PostgresTestCluster.shared.makeDatabase().configuration
            let logger = Logger(label: "glimpse.test.postgres")
            return (
                try await PostgresComputeStore.open(database, logger: logger),
                { try await PostgresComputeStore.open(database, logger: logger) }
            )
        }
    }
}

/// The `IdentityStore` backends the identity contract runs against.
enum IdentityBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store plus a way to open another instance on the same data (a restart, or a second node).
    func make() async throws -> (store: any IdentityStore, reopen: @Sendable () async throws -> any IdentityStore) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make() + "/identity.sqlite"
            return (try IdentitySQLiteStore(path: path), { try IdentitySQLiteStore(path: path) })
        case .postgres:
            let database = try await PostgresTestCluster.shared.makeDatabase().configuration
            let logger = Logger(label: "glimpse.test.postgres")
            return (
                try await PostgresIdentityStore.open(database, logger: logger),
                { try await PostgresIdentityStore.open(database, logger: logger) }
            )
        }
    }
}


/// The `MetadefStore` backends the metadefs contract runs against.
enum MetadefBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh store plus a way to open the same data again: a reopen after a restart, or a second node at once.
    func make() async throws -> (store: any MetadefStore, reopen: @Sendable () async throws -> any MetadefStore) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make() + "/metadefs.sqlite"
            return (try SQLiteMetadefStore(path: path), { try SQLiteMetadefStore(path: path) })
        case .postgres:
            let database = try await PostgresTestCluster.shared.makeDatabase().configuration
            let logger = Logger(label: "glimpse.test.postgres")
            return (
                try await PostgresMetadefStore.open(database, logger: logger),
                { try await PostgresMetadefStore.open(database, logger: logger) }
            )
        }
    }
}

enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file
    /// A fresh bucket on the test process's private S3 endpoint (OpenStack Swift with s3api, `S3TestEndpoint`),
    /// with parts small enough that the contract's objects go up in several of them.
    case s3

    var testDescription: String { rawValue }

    func make() async throws -> (store: any BlobStore, reopen: @Sendable () throws -> any BlobStore) {
        let (store, _, reopen) = try await makeShared()
        return (store, reopen)
    }

    /// Two writers (nodes) on one backend, and a way to reopen the first one after a crash.
    func makeShared() async throws -> (first: any BlobStore, second: any BlobStore, reopenFirst: @Sendable () throws -> any BlobStore) {
        switch self {
        case .file:
            let root = try TemporaryDirectory.make() + "/blobs"
            return (
                try FileBlobStore(root: root, writer: "node-a"), try FileBlobStore(root: root, writer: "node-b"),
                { try FileBlobStore(root: root, writer: "node-a") }
            )
        case .s3:
            let (first, location, credentials) = try await S3TestEndpoint.shared.makeStore(
                writer: "node-a", partSize: 1 << 20, readChunkSize: 300_000)
            let second = try S3BlobStore(location: location, credentials: credentials, writer: "node-b", partSize: 1 << 20)
            return (first, second, { try S3BlobStore(location: location, credentials: credentials, writer: "node-a") })
        }
    }
}

enum TemporaryDirectory {
    static func make() throws -> String {
        let path = NSTemporaryDirectory() + "glimpse-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

import Testing
