import GRPCCore

/// The deadline of the call being served: read once where the call enters
/// (``AccessInterceptor``, from the client's deadline or the agent's default
/// one) and handed to handlers and operations as a task-local value.
///
/// Handlers never parse `grpc-timeout`: both transports pass the client's
/// deadline under ``PeerIdentity/timeoutKey`` (so grpc-swift keeps no
/// `Task.sleep` per call for it), the interceptor turns it into this value
/// and binds it around the handler and, for streaming responses, around the
/// response body too (a task-local bound around `next` does not reach a
/// body that runs after `next` returns).
struct CallDeadline: Sendable, Equatable {
    /// When the call's time runs out.
    let instant: ContinuousClock.Instant
    /// The limit as given, for messages ("the call's deadline of 2 s").
    let limit: Duration
    /// Whether the client set it (false: the agent's default deadline).
    let fromClient: Bool

    /// The deadline of the call this task serves, nil outside a call or for a call without one.
    @TaskLocal static var current: CallDeadline?

    init(limit: Duration, fromClient: Bool, now: ContinuousClock.Instant = .now) {
        self.instant = now + limit
        self.limit = limit
        self.fromClient = fromClient
    }

    /// What is left of it (zero once it has passed).
    func remaining(now: ContinuousClock.Instant = .now) -> Duration {
        max(.zero, instant - now)
    }

    /// What is left of the current call's deadline, nil without one.
    static var remaining: Duration? { current?.remaining() }

    /// Says which deadline a call ran out of, for DEADLINE_EXCEEDED messages.
    var description: String {
        fromClient ? "the call's deadline of \(limit)" : "the agent's default deadline of \(limit)"
    }

    /// Parses a gRPC timeout value: up to eight digits and a unit (H, M, S,
    /// m, u, n), as the `grpc-timeout` header and ttrpc's `timeout_nano`
    /// (rewritten by the TTRPC transport) carry it.
    static func parseTimeout(_ text: String) -> Duration? {
        guard let unit = text.last, text.count >= 2, text.count <= 9 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(digits) else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}
