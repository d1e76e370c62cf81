import ArgumentParser
import Foundation
import Synchronization
import VirtHostClient

/// `virthost vol ...`: volumes in a pool, like virsh vol-*.
struct VolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vol", abstract: "Volumes in storage pools.",
        subcommands: [
            List.self, Info.self, XML.self, Create.self, Delete.self, Wipe.self, Resize.self, Clone.self, Upload.self,
            Download.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a pool's volumes.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Flag(help: "Read each volume's format too (one more libvirt call per volume in the agent).")
        var withFormat = false
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListVolumesRequest()
            request.pool = pool
            request.withFormat = withFormat
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let volumes = try await page.items(options, request, token: \.pageToken, { try await $0.listVolumes($1) }) {
                ($0.volumes, $0.nextPageToken)
            }
            guard let volumes else { return }
            // virsh vol-list --details's columns; the format with --with-format.
            var table = withFormat
                ? Table("Name", "Path", "Type", "Format", "Capacity", "Allocation")
                : Table("Name", "Path", "Type", "Capacity", "Allocation")
            for v in volumes {
                let sizes = [Format.bytes(v.capacity), Format.bytes(v.allocation)]
                let head = [v.name, v.path, v.type]
                table.add(head + (withFormat ? [v.format.isEmpty ? "-" : v.format] : []) + sizes)
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show one volume (like virsh vol-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            let v = try await options.withClient { try await $0.volume(pool: pool, name: name) }
            try VolCommand.show(v, options)
        }
    }

    struct XML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "xml", abstract: "Print a volume's XML (like virsh vol-dumpxml).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            Output.line(try await options.withClient { try await $0.volumeXML(pool: pool, name: name) })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a volume, thin or preallocated (like virsh vol-create-as).",
            discussion: """
                SIZE takes virsh's suffixes: K, M, G, T, P, E (also KiB, MiB, ...) are powers of 1024;
                KB, MB, GB, TB are powers of 1000; a plain number is bytes.
                  virthost vol create images web.qcow2 20G --format qcow2
                  virthost vol create images db.raw 10G --preallocate
                  virthost vol create images meta.qcow2 10G --format qcow2 --preallocation metadata
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The new volume's name.") var name: String
        @Argument(help: "Capacity, e.g. 1G, 512M, 1073741824.") var size: String
        @Option(help: "raw (default) or qcow2.") var format: String?
        @Flag(help: "Sparse: allocate nothing up front (the default).") var thin = false
        @Flag(help: "Allocate every byte now.") var preallocate = false
        @Option(help: "thin, full, or for qcow2 metadata or falloc.") var preallocation: String?

        func validate() throws {
            let chosen = [thin, preallocate, preallocation != nil].filter { $0 }.count
            if chosen > 1 { throw ValidationError("--thin, --preallocate and --preallocation exclude each other") }
        }

        func run() async throws {
            let capacity = try ByteSize.parse(size)
            var allocation: Virthost_V1_Allocation = preallocate ? .full : .thin
            if let preallocation {
                switch preallocation {
                case "thin", "off": allocation = .thin
                case "full": allocation = .full
                case "metadata": allocation = .metadata
                case "falloc": allocation = .falloc
                default: throw ValidationError("--preallocation takes thin, full, metadata or falloc, not '\(preallocation)'")
                }
            }
            let v = try await options.withClient {
                try await $0.createVolume(pool: pool, name: name, capacity: capacity, format: format ?? "", allocation: allocation)
            }
            if options.json { return try Output.json(v) }
            Output.line("Volume \(v.name) created in \(v.pool): \(Format.bytes(v.capacity)), \(Format.bytes(v.allocation)) allocated")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a volume (like virsh vol-delete).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.deleteVolume(pool: pool, name: name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Volume \(name) deleted from \(pool)")
        }
    }

    struct Wipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wipe", abstract: "Overwrite a volume's data with zeros (like virsh vol-wipe; a qcow2 stays a valid empty image).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func run() async throws {
            if async { return try await options.startAsync("Wiping \(pool)/\(name)") { try await $0.wipeVolume(pool: pool, name: name) } }
            let v = try await options.withClient { try await $0.wipeVolume(pool: pool, name: name) }
            if options.json { return try Output.json(v) }
            Output.line("Volume \(v.name) wiped")
        }
    }

    struct Resize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resize", abstract: "Change a volume's capacity (like virsh vol-resize).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String
        @Argument(help: "The new capacity, e.g. 2G.") var size: String
        @Flag(help: "Allow a smaller capacity (data past it is lost).") var shrink = false
        @Flag(help: "Allocate the added bytes now.") var allocate = false

        func run() async throws {
            let capacity = try ByteSize.parse(size)
            let v = try await options.withClient {
                try await $0.resizeVolume(pool: pool, name: name, capacity: capacity, allowShrink: shrink, allocate: allocate)
            }
            if options.json { return try Output.json(v) }
            Output.line("Volume \(v.name) resized to \(Format.bytes(v.capacity))")
        }
    }

    struct Clone: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clone", abstract: "Copy a volume into a new one in the same pool (like virsh vol-clone).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume to copy.") var source: String
        @Argument(help: "The new volume's name.") var newName: String
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func run() async throws {
            if async {
                return try await options.startAsync("Cloning \(pool)/\(source) to \(newName)") {
                    try await $0.cloneVolume(pool: pool, source: source, newName: newName)
                }
            }
            let v = try await options.withProgress("Cloning") { client in
                try await client.cloneVolume(pool: pool, source: source, newName: newName)
            }
            if options.json { return try Output.json(v) }
            Output.line("Volume \(v.name) cloned from \(source)")
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upload", abstract: "Write a file into a volume (like virsh vol-upload), checked by sha256.",
            discussion: """
                With --create the volume is made for the upload (the file's size) and removed again if the
                upload does not complete. Without it, the volume must exist; bytes written before a failure
                stay in it, and the command fails.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String
        @Argument(help: "The file to send.") var file: String
        @Flag(help: "Create the volume (the file's size, thin).") var create = false
        @Option(help: "With --create: the volume's format, raw (default) or qcow2.") var format: String?
        @Option(help: "Byte offset in the volume (K/M/G suffixes).") var offset: String?

        func validate() throws {
            if format != nil && !create { throw ValidationError("--format goes with --create") }
        }

        func run() async throws {
            let start = try offset.map(ByteSize.parseOffset) ?? 0
            let meter = ProgressMeter(verb: "uploaded")
            let result = try await options.withClient {
                try await $0.uploadVolume(
                    pool: pool, name: name, from: file, create: create, createFormat: format ?? "", offset: start,
                    progress: meter.callback)
            }
            meter.finish()
            if options.json {
                return try Output.json(Virthost_V1_UploadVolumeResponse.with {
                    $0.bytesWritten = result.bytesWritten
                    $0.sha256 = result.sha256
                    $0.volume = result.volume
                })
            }
            Output.line("Uploaded \(result.bytesWritten) bytes to \(pool)/\(name) in \(meter.elapsedText) (\(meter.rateText(result.bytesWritten)))")
            Output.line("sha256 \(result.sha256) (checked by client and agent)")
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "download", abstract: "Read a volume into a file (like virsh vol-download), checked by sha256.",
            discussion: "The file appears only when every byte arrived and the sha256 matched; nothing is left on failure.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String
        @Argument(help: "The file to write (replaced if it exists).") var file: String
        @Option(help: "Byte offset in the volume (K/M/G suffixes).") var offset: String?
        @Option(help: "Bytes to read (K/M/G suffixes); default: to the end.") var length: String?

        func run() async throws {
            let start = try offset.map(ByteSize.parseOffset) ?? 0
            let count = try length.map(ByteSize.parse) ?? 0
            let meter = ProgressMeter(verb: "downloaded")
            let result = try await options.withClient {
                try await $0.downloadVolume(pool: pool, name: name, to: file, offset: start, length: count, progress: meter.callback)
            }
            meter.finish()
            if options.json {
                return try Output.json(Virthost_V1_DownloadTrailer.with {
                    $0.bytesRead = result.bytesRead
                    $0.sha256 = result.sha256
                })
            }
            Output.line("Downloaded \(result.bytesRead) bytes from \(pool)/\(name) to \(file) in \(meter.elapsedText) (\(meter.rateText(result.bytesRead)))")
            Output.line("sha256 \(result.sha256) (checked by agent and client)")
        }
    }

    static func show(_ v: Virthost_V1_Volume, _ options: ClientOptions) throws {
        if options.json { return try Output.json(v) }
        var details = Details()
        details.add("Name", v.name)
        details.add("Pool", v.pool)
        details.add("Type", v.type)
        details.add("Path", v.path)
        details.add("Format", v.format)
        details.add("Capacity", Format.bytes(v.capacity))
        details.add("Allocation", Format.bytes(v.allocation))
        Output.line(details.render())
    }
}

/// Sizes as virsh reads them: a number with an optional unit suffix.
enum ByteSize {
    /// 1024-based: b, k/KiB, m/MiB, g/GiB, t/TiB, p/PiB, e/EiB (case-insensitive
    /// single letters); 1000-based: KB, MB, GB, TB, PB, EB. No suffix is bytes.
    static func parse(_ text: String) throws -> UInt64 {
        let value = try parseOffset(text)
        guard value > 0 else { throw ValidationError("size '\(text)' is zero; give a size such as 1G") }
        return value
    }

    /// Like ``parse(_:)`` but zero is allowed.
    static func parseOffset(_ text: String) throws -> UInt64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let suffix = String(trimmed.dropFirst(digits.count))
        if trimmed.hasPrefix("-") { throw ValidationError("size '\(text)' is negative") }
        guard !digits.isEmpty else { throw ValidationError("size '\(text)' is not a number with an optional K/M/G/T suffix") }
        guard let number = UInt64(digits) else { throw ValidationError("size '\(text)' is too large") }
        let letters = ["": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6]
        let multiplier: UInt64
        let lower = suffix.lowercased()
        if let power = letters[lower] {
            multiplier = 1 << (10 * power)
        } else if lower.count == 3, lower.hasSuffix("ib"), let power = letters[String(lower.prefix(1))], power > 0 {
            multiplier = 1 << (10 * power)
        } else if lower.count == 2, lower.hasSuffix("b"), let power = letters[String(lower.prefix(1))], power > 0 {
            multiplier = (0..<power).reduce(1) { value, _ in value * 1000 }
        } else {
            throw ValidationError("size '\(text)' has an unknown unit '\(suffix)'; use K, M, G, T (1024-based) or KB, MB, GB, TB")
        }
        let (result, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, result <= UInt64(Int64.max) else { throw ValidationError("size '\(text)' overflows (at most 8 EiB - 1)") }
        return result
    }
}

/// Shows a transfer's progress on standard error when it is a terminal.
final class ProgressMeter: Sendable {
    private let verb: String
    private let started = Date()
    private let onTerminal = isatty(STDERR_FILENO) == 1
    private struct State {
        var lastDraw = Date.distantPast
        var drew = false
    }
    private let state = Mutex(State())

    init(verb: String) { self.verb = verb }

    var callback: (@Sendable (TransferProgress) -> Void)? {
        onTerminal ? { @Sendable [self] progress in draw(progress) } : nil
    }

    private func draw(_ progress: TransferProgress) {
        state.withLock { state in
            let now = Date()
            guard now.timeIntervalSince(state.lastDraw) >= 0.2 || progress.bytes == progress.total else { return }
            state.lastDraw = now
            state.drew = true
            let percent = progress.total > 0 ? Int(Double(progress.bytes) * 100 / Double(progress.total)) : 0
            let rate = Double(progress.bytes) / max(elapsed, 0.001)
            let eta = progress.total > progress.bytes && rate > 0
                ? String(format: ", ETA %.0f s", Double(progress.total - progress.bytes) / rate) : ""
            let line = "\r\(verb) \(Format.bytes(progress.bytes)) of \(Format.bytes(progress.total)) (\(percent)%), "
                + rateText(progress.bytes) + eta + "   "
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        state.withLock { if $0.drew { FileHandle.standardError.write(Data("\n".utf8)) } }
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(started) }
    var elapsedText: String { String(format: "%.2f s", elapsed) }

    func rateText(_ bytes: UInt64) -> String {
        let seconds = max(elapsed, 0.001)
        return Format.bytes(UInt64(Double(bytes) / seconds)) + "/s"
    }
}
