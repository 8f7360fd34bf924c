// What garbage collection sees of a bucket: objects with LastModified, and multipart uploads with their writers.
import Foundation
import GlimpseCore

extension S3BlobStore {
    /// Image objects only: keys that are not plain names (markers, or another tool's objects in a shared bucket)
    /// are never Glimpse's to collect.
    public func storedObjects() async throws -> [StoredObject] {
        try await listObjects(prefix: nil).filter { Self.isPlainName($0.key) }
    }

    /// Every multipart upload in the bucket, with the writer its marker names (nil without a marker), and every
    /// marker whose upload is gone (the writer died between completing or aborting and removing its marker).
    public func incompleteWrites() async throws -> [IncompleteWrite] {
        // Markers first: an upload created after this listing shows as unannounced, but it is young, and the
        // grace period keeps it.
        var markers: [String: (writer: String, key: String, modified: Timestamp)] = [:]
        for marker in try await listObjects(prefix: Self.incomingPrefix) {
            let parts = marker.key.dropFirst(Self.incomingPrefix.count).split(separator: "/", maxSplits: 2)
            guard parts.count == 3 else { continue }
            markers[String(parts[2])] = (String(parts[0]), String(parts[1]), marker.modified)
        }
        var writes: [IncompleteWrite] = []
        for upload in try await uploadsInProgress() where Self.isPlainName(upload.key) {
            let marker = markers.removeValue(forKey: upload.uploadID)
            writes.append(IncompleteWrite(
                key: upload.key, writer: marker?.writer, started: upload.initiated.map(Self.timestamp) ?? marker?.modified,
                bytes: nil, handle: upload.uploadID))
        }
        for (uploadID, marker) in markers {
            writes.append(IncompleteWrite(
                key: marker.key, writer: marker.writer, started: marker.modified, bytes: 0, handle: uploadID))
        }
        return writes
    }

    public func removeIncompleteWrite(_ write: IncompleteWrite) async throws {
        let key = try checkedKey(write.key)
        try await client.send(Self.abort(key: key, uploadID: write.handle)).check("AbortMultipartUpload", alsoAccepted: [404])
        guard let writer = write.writer else { return }
        let marker = Self.incomingPrefix + "\(writer)/\(key)/\(write.handle)"
        try await client.send(S3Request(operation: "DeleteObject", method: .DELETE, key: marker, idempotent: true))
            .check("DeleteObject (upload marker)", alsoAccepted: [404])
    }

    static func timestamp(_ date: Date) -> Timestamp {
        Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
