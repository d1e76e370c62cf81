import CSQLite
import Foundation
import Synchronization

/// The agent's state database: one SQLite file under the state folder
/// (`[state] dir`, default `/var/lib/virthost`), holding request ids
/// (``RequestLedger``) and operations (``OperationLedger``).
///
/// WAL mode with `synchronous=NORMAL`: a transaction is in the WAL file
/// before the call that made it answers, so a `kill -9` loses nothing (a
/// power cut may lose the last transactions). The schema is migrated from
/// version 0 up; a file that is not a database, fails `quick_check`, or was
/// written by a newer agent stops the start with a clear message and is
/// never changed or deleted.
///
/// One connection behind a mutex: statements are small (a row, an index
/// lookup), so callers run them inline.
public final class StateDatabase: Sendable {
    /// The schema this agent writes.
    public static let schemaVersion: Int32 = 3
    /// The file name inside the state folder.
    public static let fileName = "state.sqlite3"

    /// Why the database cannot be used; the agent does not start.
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A value bound to or read from a statement.
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob(Data)

        public var int: Int64? { if case .integer(let value) = self { value } else { nil } }
        public var double: Double? {
            switch self {
            case .real(let value): value
            case .integer(let value): Double(value)
            default: nil
            }
        }
        public var string: String? { if case .text(let value) = self { value } else { nil } }
        public var data: Data? { if case .blob(let value) = self { value } else { nil } }
    }

    /// A row: columns by name.
    public typealias Row = [String: Value]

    public let path: String
    private let handle: Mutex<Handle>

    /// Who writes running rows: this process on this boot ("BOOTID:PID").
    /// Several agents may share one state folder (tests, a second agent on
    /// another socket): at start each marks as cut only the rows whose
    /// writer is gone (``isOwnerGone(_:)``).
    public static let owner: String = {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        return "\(boot):\(getpid())"
    }()

    /// Whether the process that wrote a row with this owner no longer runs.
    public static func isOwnerGone(_ owner: String) -> Bool {
        guard owner != Self.owner else { return false }
        let parts = owner.split(separator: ":")
        guard parts.count == 2, let pid = Int32(parts[1]) else { return true }
        let boot = String(Self.owner.split(separator: ":").first ?? "")
        if String(parts[0]) != boot { return true }
        // Same boot: gone when no such process (or it is not a virthostd).
        guard kill(pid, 0) == 0 || errno == EPERM else { return true }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        return !command.hasPrefix("virthostd") && !command.hasPrefix("virthostPackage") && !command.hasPrefix("xctest")
    }

    /// The migrations, in order: migration N takes the schema from N-1 to N.
    static let migrations: [String] = [
        // 1: request ids and operations.
        """
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            uid INTEGER NOT NULL,
            state TEXT NOT NULL,
            status_code INTEGER,
            status_message TEXT,
            status_metadata BLOB,
            response BLOB,
            created_at REAL NOT NULL,
            finished_at REAL,
            owner TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX requests_created ON requests(created_at);
        CREATE TABLE operations (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            object TEXT NOT NULL,
            uid INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            state INTEGER NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL DEFAULT 0,
            unit TEXT NOT NULL DEFAULT '',
            started_at REAL NOT NULL,
            ended_at REAL,
            status_code INTEGER,
            status_message TEXT,
            cancellable INTEGER NOT NULL DEFAULT 0,
            cleanup TEXT NOT NULL DEFAULT '',
            request_id TEXT NOT NULL DEFAULT '',
            created_volume TEXT NOT NULL DEFAULT '',
            owner TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX operations_started ON operations(started_at);
        CREATE INDEX operations_state ON operations(state);
        """,
        // 2: what a disk move or backup needs to be taken over after a
        // restart, and the backups of machines.
        """
        ALTER TABLE operations ADD COLUMN params TEXT NOT NULL DEFAULT '';
        CREATE TABLE backups (
            id TEXT PRIMARY KEY,
            domain TEXT NOT NULL,
            domain_uuid TEXT NOT NULL,
            parent TEXT NOT NULL DEFAULT '',
            incremental INTEGER NOT NULL DEFAULT 0,
            state INTEGER NOT NULL,
            pool TEXT NOT NULL,
            disks TEXT NOT NULL,
            created_at REAL NOT NULL,
            completed_at REAL,
            message TEXT NOT NULL DEFAULT '',
            quiesced INTEGER NOT NULL DEFAULT 0,
            operation_id TEXT NOT NULL DEFAULT '',
            owner TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX backups_domain ON backups(domain_uuid, created_at);
        """,
        // 3: bridges put over an uplink and not yet confirmed (``PendingBridges``).
        """
        CREATE TABLE bridge_changes (
            bridge TEXT PRIMARY KEY,
            uplink TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            state TEXT NOT NULL,
            deadline REAL,
            owner TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        """,
    ]

    /// Opens (creating when missing) the database at `path`, checks it and
    /// brings its schema up to date.
    public init(path: String) throws(OpenError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if path != ":memory:" && !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw OpenError(description: "cannot create the state folder \(folder): \(error.localizedDescription)")
            }
        }
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &pointer, flags, nil) == SQLITE_OK, let db = pointer else {
            let reason = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(pointer)
            throw OpenError(description: "cannot open the state database \(path): \(reason)")
        }
        let handle = Handle(db)
        do {
            try Self.prepare(handle, path: path)
        } catch {
            sqlite3_close(db)
            throw error
        }
        self.handle = Mutex(handle)
    }

    deinit {
        handle.withLock { sqlite3_close($0.db) }
    }

    private static func prepare(_ handle: Handle, path: String) throws(OpenError) {
        let damaged = "the state database \(path) is damaged or is not a database"
        let advice = "the agent leaves it as it is: move it aside (the agent then starts with no recorded request ids or operations) or restore a copy"
        sqlite3_busy_timeout(handle.db, 5000)
        let check: [Row]
        do {
            check = try handle.query("PRAGMA quick_check", [])
        } catch {
            throw OpenError(description: "\(damaged) (\(error)); \(advice)")
        }
        let verdict = check.first?.values.first?.string ?? "?"
        guard verdict == "ok" else { throw OpenError(description: "\(damaged) (quick_check: \(verdict)); \(advice)") }
        let version: Int32
        do {
            version = Int32(try handle.query("PRAGMA user_version", []).first?.values.first?.int ?? 0)
        } catch {
            throw OpenError(description: "\(damaged) (\(error)); \(advice)")
        }
        guard version <= schemaVersion else {
            throw OpenError(description: "the state database \(path) has schema version \(version), written by a newer virthost "
                + "(this one knows up to \(schemaVersion)); the agent leaves it as it is: upgrade virthost, or move the file aside")
        }
        do {
            _ = try handle.query("PRAGMA journal_mode=WAL", [])
            try handle.execute("PRAGMA synchronous=NORMAL")
            for next in (version + 1)...max(version + 1, schemaVersion) where next <= schemaVersion {
                try handle.execute("BEGIN IMMEDIATE")
                do {
                    try handle.execute(migrations[Int(next) - 1])
                    try handle.execute("PRAGMA user_version = \(next)")
                    try handle.execute("COMMIT")
                } catch {
                    try? handle.execute("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw OpenError(description: "cannot bring the state database \(path) to schema \(schemaVersion): \(error)")
        }
    }

    /// Runs one statement (no result rows wanted).
    public func execute(_ sql: String, _ bindings: [Value] = []) throws {
        try handle.withLock { try $0.run(sql, bindings) }
    }

    /// Runs one statement and returns its rows.
    public func query(_ sql: String, _ bindings: [Value] = []) throws -> [Row] {
        try handle.withLock { try $0.query(sql, bindings) }
    }

    /// Runs `body` in one immediate transaction (committed when it returns,
    /// rolled back when it throws).
    public func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try handle.withLock { handle in
            try handle.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(Transaction(handle: handle))
                try handle.execute("COMMIT")
                return result
            } catch {
                try? handle.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// The statements of a transaction.
    public struct Transaction {
        fileprivate let handle: Handle

        public func execute(_ sql: String, _ bindings: [Value] = []) throws { try handle.run(sql, bindings) }
        public func query(_ sql: String, _ bindings: [Value] = []) throws -> [Row] { try handle.query(sql, bindings) }
    }

    /// A failed SQLite call.
    public struct SQLError: Error, CustomStringConvertible {
        public let code: Int32
        public let message: String
        public var description: String { "SQLite error \(code): \(message)" }
    }
}

/// The raw connection; used only under the database's mutex.
private final class Handle: @unchecked Sendable {
    let db: OpaquePointer

    init(_ db: OpaquePointer) { self.db = db }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(message)
            throw StateDatabase.SQLError(code: code, message: text)
        }
    }

    func run(_ sql: String, _ bindings: [StateDatabase.Value]) throws {
        _ = try query(sql, bindings)
    }

    func query(_ sql: String, _ bindings: [StateDatabase.Value]) throws -> [StateDatabase.Row] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StateDatabase.SQLError(code: sqlite3_errcode(db), message: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in bindings.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .real(let number): sqlite3_bind_double(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, Self.transient)
            case .blob(let data):
                _ = data.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        }
        var rows: [StateDatabase.Row] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw StateDatabase.SQLError(code: step, message: String(cString: sqlite3_errmsg(db)))
            }
            var row: StateDatabase.Row = [:]
            for column in 0..<sqlite3_column_count(statement) {
                let name = String(cString: sqlite3_column_name(statement, column))
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row[name] = .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: row[name] = .real(sqlite3_column_double(statement, column))
                case SQLITE_TEXT: row[name] = .text(String(cString: sqlite3_column_text(statement, column)))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    row[name] = .blob(count == 0 ? Data() : Data(bytes: sqlite3_column_blob(statement, column), count: count))
                default: row[name] = .null
                }
            }
            rows.append(row)
        }
        return rows
    }
}
