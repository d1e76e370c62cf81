/// A request the agent refuses by itself, before or instead of libvirt: bad
/// input, an object that is missing or already there, a wrong state.
///
/// The per-area operations throw it (they know nothing about gRPC);
/// ``ErrorMapping`` gives each kind its gRPC status, so a handler can
/// rethrow it as it is.
struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of refusal: one gRPC status code each.
    enum Kind: Sendable, Equatable {
        case invalidArgument, notFound, alreadyExists, failedPrecondition, permissionDenied, resourceExhausted, unimplemented, unavailable,
            internalError, aborted, cancelled
    }

    let kind: Kind
    /// What is wrong and, where it helps, what to do about it.
    let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Bad input, caught before anything reached libvirt.
    static func invalid(_ message: String) -> Refusal { Refusal(.invalidArgument, message) }

    var description: String { message }
}
