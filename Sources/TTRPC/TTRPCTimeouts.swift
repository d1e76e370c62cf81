/// ttrpc carries a deadline as `timeout_nano`; grpc-swift as the
/// `grpc-timeout` metadata value. Conversions both ways.
public enum TTRPCTimeouts {
    /// A `grpc-timeout` value (at most eight digits and a unit), rounded up.
    public static func grpcTimeout(nanoseconds: Int64) -> String {
        var value = nanoseconds
        for (unit, next) in [("n", 1000), ("u", 1000), ("m", 1000), ("S", 60), ("M", 60)] as [(String, Int64)] {
            if value < 100_000_000 { return "\(value)\(unit)" }
            value = value / next + (value % next == 0 ? 0 : 1)  // rounded up, without overflow
        }
        return "\(min(value, 99_999_999))H"
    }

    /// Parses a `grpc-timeout` value into nanoseconds.
    public static func nanoseconds(grpcTimeout text: String) -> Int64? {
        guard let unit = text.last, let amount = Int64(text.dropLast()) else { return nil }
        let scale: Int64
        switch unit {
        case "n": scale = 1
        case "u": scale = 1_000
        case "m": scale = 1_000_000
        case "S": scale = 1_000_000_000
        case "M": scale = 60_000_000_000
        case "H": scale = 3_600_000_000_000
        default: return nil
        }
        return amount.multipliedReportingOverflow(by: scale).overflow ? Int64.max : amount * scale
    }
}
