import Foundation
import GlimpseCore
import GlimpseStorage

/// The backends every storage contract test runs against. A new backend (PostgreSQL, S3) joins by adding a case.
enum MetadataBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite

    var testDescription: String { rawValue }

    /// A fresh, empty store plus a way to reopen the same data (to check durability).
    func make() throws -> (store: any MetadataStore, reopen: @Sendable () throws -> any MetadataStore) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make() + "/meta.sqlite"
            return (try SQLiteMetadataStore(path: path), { try SQLiteMetadataStore(path: path) })
        }
    }
}

enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file

    var testDescription: String { rawValue }

    func make() throws -> (store: any BlobStore, reopen: @Sendable () throws -> any BlobStore) {
        switch self {
        case .file:
            let root = try TemporaryDirectory.make() + "/blobs"
            return (try FileBlobStore(root: root), { try FileBlobStore(root: root) })
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
