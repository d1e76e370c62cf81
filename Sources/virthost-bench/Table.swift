import Foundation

/// One row of the result table.
struct Row {
    var operation: String
    var path: String
    var sample: Sample?
    var throughput: [Int: Double] = [:]
    var note: String?
    var ratios: String = ""
}

func formatNanos(_ ns: Double) -> String {
    if ns < 10_000 { return String(format: "%.1fus", ns / 1000) }
    if ns < 10_000_000 { return String(format: "%.0fus", ns / 1000) }
    return String(format: "%.1fms", ns / 1_000_000)
}

func formatRate(_ r: Double) -> String {
    r >= 100 ? String(format: "%.0f", r) : String(format: "%.1f", r)
}

func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    if s.count >= width { return s }
    let fill = String(repeating: " ", count: width - s.count)
    return left ? s + fill : fill + s
}

/// Prints the table: one block per operation, a row per path, ratios at p50 on the agent row.
func printTable(_ rows: [Row], concurrency: [Int]) {
    var header = [pad("operation", 14, left: true), pad("path", 13, left: true), pad("calls", 7),
                  pad("p50", 8), pad("p99", 8), pad("max", 8)]
    header += concurrency.map { pad("/s @\($0)", 8) }
    header += [pad("cpu/call", 9), pad("srv cpu", 9), "  p50 ratios"]
    let line = header.joined(separator: " ")
    print(line)
    print(String(repeating: "-", count: line.count))
    var last = ""
    for row in rows {
        if row.operation != last && !last.isEmpty { print("") }
        last = row.operation
        var cells = [pad(row.operation, 14, left: true), pad(row.path, 13, left: true)]
        if let s = row.sample {
            let h = s.histogram
            cells += [pad("\(s.calls)", 7),
                      pad(formatNanos(Double(h.valueAtPercentile(50))), 8),
                      pad(formatNanos(Double(h.valueAtPercentile(99))), 8),
                      pad(formatNanos(Double(h.max)), 8)]
            cells += concurrency.map { pad(row.throughput[$0].map(formatRate) ?? "-", 8) }
            cells += [pad(formatNanos(s.clientCPU), 9), pad(s.serverCPU.map(formatNanos) ?? "-", 9)]
            if !row.ratios.isEmpty { cells.append("  " + row.ratios) }
        } else {
            cells.append(row.note ?? "skipped")
        }
        print(cells.joined(separator: " "))
    }
}
