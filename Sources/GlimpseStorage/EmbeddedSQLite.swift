import GRDB

/// The one way Glimpse opens an embedded SQLite database, whichever store it holds.
enum EmbeddedSQLite {
    static func openPool(at path: String) throws -> DatabasePool {
        var config = Configuration()
        // Another process (a second glimpse, an operator's sqlite3 shell) may hold a lock for a moment.
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // WAL (DatabasePool) with NORMAL sync: no fsync per commit, and a crash never corrupts the database.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return try DatabasePool(path: path, configuration: config)
    }
}
