import Foundation
import Histogram

// MARK: (e) a Python grpcio client against the agent

/// What scripts/bench_grpcio.py measured for one operation: a sample, or why there is none.
enum GrpcioResult {
    case sample(Sample, throughput: [Int: Double])
    case note(String)
}

/// Finds scripts/bench_grpcio.py: in a folder above `binDir` (the repository of a
/// `.build/...` folder), else under the current folder.
func findGrpcioScript(binDir: String) -> String? {
    var folder = URL(fileURLWithPath: binDir).standardizedFileURL
    for _ in 0..<6 {
        let candidate = folder.appendingPathComponent("scripts/bench_grpcio.py").path
        if FileManager.default.fileExists(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    let here = FileManager.default.currentDirectoryPath + "/scripts/bench_grpcio.py"
    return FileManager.default.fileExists(atPath: here) ? here : nil
}

/// Runs the grpcio client once for every operation against `socket` and reads its lines.
func runGrpcio(
    python: String, script: String, socket: String, calls: Int, concurrency: [Int],
    domain: String?, agentDomain: String?, servers: [Int32]
) throws -> [String: GrpcioResult] {
    let output = "/tmp/vhu-bench-\(getpid())-grpcio.out"
    defer { unlink(output) }
    var arguments = [python, script, "--socket", socket, "--calls", "\(calls)",
                     "--concurrency", concurrency.map(String.init).joined(separator: ","),
                     "--server-pids", servers.map(String.init).joined(separator: ",")]
    if let domain { arguments += ["--domain", domain] }
    if let agentDomain { arguments += ["--agent-domain", agentDomain] }
    let pid = try spawn(arguments, output: output)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    guard status == 0 else {
        throw BenchError("\(python) \(script) failed (status \(status)): \(text.suffix(1500))")
    }
    var results: [String: GrpcioResult] = [:]
    var rows: [String: [String: String]] = [:]
    var latencies: [String: [UInt64]] = [:]
    for line in text.split(separator: "\n") {
        let words = line.split(separator: " ")
        guard words.count >= 2 else { continue }
        let op = String(words[1])
        switch words[0] {
        case "grpcio-row":
            var fields: [String: String] = [:]
            for word in words.dropFirst(2) {
                let pair = word.split(separator: "=", maxSplits: 1)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            rows[op] = fields
        case "grpcio-latencies":
            latencies[op] = words.dropFirst(2).compactMap { UInt64($0) }
        case "grpcio-error":
            let message = words.dropFirst(2).joined(separator: " ")
            results[op] = .note(message == "skipped" ? "skipped" : "failed: \(message)")
        default: continue
        }
    }
    for (op, fields) in rows {
        guard let ns = latencies[op], !ns.isEmpty, let seconds = fields["seconds"].flatMap(Double.init),
              let cpu = fields["cpu_ns"].flatMap(Double.init) else {
            results[op] = .note("failed: incomplete output from \(script)")
            continue
        }
        var histogram = newHistogram()
        for v in ns { _ = histogram.record(v) }
        var throughput: [Int: Double] = [:]
        for (key, value) in fields where key.hasPrefix("rate@") {
            if let k = Int(key.dropFirst(5)), let r = Double(value) { throughput[k] = r }
        }
        let sample = Sample(histogram: histogram, calls: ns.count, seconds: seconds, clientCPU: cpu,
                            serverCPU: fields["srv_cpu_ns"].flatMap(Double.init))
        results[op] = .sample(sample, throughput: throughput)
    }
    return results
}
