// What garbage collection sees of a file store: committed objects with their mtime, and every incoming file.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GlimpseCore

extension FileBlobStore {
    public func storedObjects() async throws -> [StoredObject] {
        try await pool.runIfActive {
            Self.list(self.objects).compactMap { name in
                // Gone between the listing and the stat (deleted meanwhile): not an object any more.
                guard let status = self.statPath(self.objects + "/" + name) else { return nil }
                return StoredObject(key: name, size: Int64(status.st_size), modified: Self.modified(status))
            }
        }
    }

    public func incompleteWrites() async throws -> [IncompleteWrite] {
        try await pool.runIfActive {
            var writes: [IncompleteWrite] = []
            for entry in Self.list(self.incoming) {
                let path = self.incoming + "/" + entry
                guard let status = self.statPath(path) else { continue }
                if status.st_mode & S_IFMT == S_IFDIR {
                    for name in Self.list(path) {
                        guard let file = self.statPath(path + "/" + name) else { continue }
                        writes.append(Self.incompleteWrite(name: name, writer: entry, handle: entry + "/" + name, status: file))
                    }
                } else {
                    // A file directly in incoming/ predates writer directories: nobody announced it.
                    writes.append(Self.incompleteWrite(name: entry, writer: nil, handle: entry, status: status))
                }
            }
            return writes
        }
    }

    public func removeIncompleteWrite(_ write: IncompleteWrite) async throws {
        let parts = write.handle.split(separator: "/", omittingEmptySubsequences: false)
        // The handle came from `incompleteWrites()`; anything else could name a file outside incoming/.
        guard (1...2).contains(parts.count), parts.allSatisfy({ Self.isPlainName(String($0)) }) else {
            throw FileError(op: "remove incomplete write", path: write.handle, code: EINVAL)
        }
        let path = incoming + "/" + write.handle
        try await pool.runIfActive {
            if unlink(path) != 0, errno != ENOENT { throw FileError(op: "unlink", path: path, code: errno) }
            // Another writer's directory goes once empty (a dead node's); this store's own stays for its writes.
            if parts.count == 2, String(parts[0]) != self.writer { rmdir(self.incoming + "/" + String(parts[0])) }
        }
    }

    /// An incoming file `<key>.<random>`.
    private static func incompleteWrite(name: String, writer: String?, handle: String, status: stat) -> IncompleteWrite {
        let key = name.lastIndex(of: ".").map { String(name[..<$0]) } ?? name
        return IncompleteWrite(
            key: key, writer: writer, started: modified(status), bytes: Int64(status.st_size), handle: handle)
    }

    /// A file's mtime: for an incoming file, its last write (a write still going keeps it young).
    static func modified(_ status: stat) -> Timestamp {
        Timestamp(microseconds: Int64(status.st_mtim.tv_sec) * 1_000_000 + Int64(status.st_mtim.tv_nsec) / 1000)
    }
}
