import NIOCore

/// ttrpc's own protobuf messages (containerd's `ttrpc/request.proto`),
/// read and written by hand: they are small, fixed, and on every call's
/// path, so they skip SwiftProtobuf's reflection.
///
/// ```proto
/// message Request  { string service = 1; string method = 2; bytes payload = 3;
///                    int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
/// message Response { google.rpc.Status status = 1; bytes payload = 2; }
/// message KeyValue { string key = 1; string value = 2; }
/// ```
public struct TTRPCRequest: Sendable, Equatable {
    public var service: String = ""
    public var method: String = ""
    public var payload: ByteBuffer = ByteBuffer()
    /// The caller's deadline, in nanoseconds from when the request was sent; 0 for none.
    public var timeoutNano: Int64 = 0
    public var metadata: [(key: String, value: String)] = []

    public init() {}

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.service == rhs.service && lhs.method == rhs.method && lhs.payload == rhs.payload
            && lhs.timeoutNano == rhs.timeoutNano && lhs.metadata.elementsEqual(rhs.metadata, by: { $0 == $1 })
    }

    /// Decodes a Request; unknown fields are skipped, as protobuf requires.
    public init(decoding buffer: ByteBuffer) throws(TTRPCDecodingError) {
        var reader = ProtobufReader(buffer)
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (1, .lengthDelimited): service = try reader.string()
            case (2, .lengthDelimited): method = try reader.string()
            case (3, .lengthDelimited): payload = try reader.bytes()
            case (4, .varint): timeoutNano = Int64(bitPattern: try reader.varint())
            case (5, .lengthDelimited):
                var pair = ProtobufReader(try reader.bytes())
                var key = ""
                var value = ""
                while let (f, w) = try pair.nextField() {
                    switch (f, w) {
                    case (1, .lengthDelimited): key = try pair.string()
                    case (2, .lengthDelimited): value = try pair.string()
                    default: try pair.skip(w)
                    }
                }
                metadata.append((key, value))
            default: try reader.skip(wire)
            }
        }
    }

    /// Appends the encoded Request to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        ProtobufWriter.string(1, service, into: &buffer)
        ProtobufWriter.string(2, method, into: &buffer)
        ProtobufWriter.bytes(3, payload.readableBytesView, into: &buffer)
        if timeoutNano != 0 { ProtobufWriter.varint(4, UInt64(bitPattern: timeoutNano), into: &buffer) }
        for (key, value) in metadata {
            var pair = ByteBuffer()
            ProtobufWriter.string(1, key, into: &pair)
            ProtobufWriter.string(2, value, into: &pair)
            ProtobufWriter.bytes(5, pair.readableBytesView, into: &buffer)
        }
    }
}

/// A ttrpc Response: the call's status and, when it succeeded, its payload.
public struct TTRPCResponse: Sendable, Equatable {
    public var status: TTRPCStatus
    public var payload: ByteBuffer

    public init(status: TTRPCStatus, payload: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.payload = payload
    }

    public init(decoding buffer: ByteBuffer) throws(TTRPCDecodingError) {
        var reader = ProtobufReader(buffer)
        status = TTRPCStatus(code: 0, message: "")
        payload = ByteBuffer()
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (1, .lengthDelimited): status = try TTRPCStatus(decoding: try reader.bytes())
            case (2, .lengthDelimited): payload = try reader.bytes()
            default: try reader.skip(wire)
            }
        }
    }

    public func encode(into buffer: inout ByteBuffer) {
        // The status is always written, as containerd's server does.
        var status = ByteBuffer()
        self.status.encode(into: &status)
        ProtobufWriter.bytes(1, status.readableBytesView, into: &buffer, always: true)
        ProtobufWriter.bytes(2, payload.readableBytesView, into: &buffer)
    }
}

/// A `google.rpc.Status`: code and message read out, and the whole encoded
/// message kept, so that details (ErrorInfo, typed details) pass through
/// unchanged in both directions.
public struct TTRPCStatus: Sendable, Equatable {
    /// The gRPC status code (google.rpc.Code uses the same numbers).
    public var code: Int32
    public var message: String
    /// The complete encoded google.rpc.Status, details included, when known.
    public var encoded: ByteBuffer?

    public init(code: Int32, message: String, encoded: ByteBuffer? = nil) {
        self.code = code
        self.message = message
        self.encoded = encoded
    }

    public init(decoding buffer: ByteBuffer) throws(TTRPCDecodingError) {
        var reader = ProtobufReader(buffer)
        code = 0
        message = ""
        encoded = buffer
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (1, .varint): code = Int32(truncatingIfNeeded: try reader.varint())
            case (2, .lengthDelimited): message = try reader.string()
            default: try reader.skip(wire)
            }
        }
    }

    public func encode(into buffer: inout ByteBuffer) {
        if var encoded {
            buffer.writeBuffer(&encoded)
            return
        }
        if code != 0 { ProtobufWriter.varint(1, UInt64(bitPattern: Int64(code)), into: &buffer) }
        ProtobufWriter.string(2, message, into: &buffer)
    }
}

/// A message that is not valid protobuf of the expected shape.
public struct TTRPCDecodingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// Reads protobuf's wire format from a ByteBuffer, checking every length.
struct ProtobufReader {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    mutating func nextField() throws(TTRPCDecodingError) -> (UInt64, WireType)? {
        guard buffer.readableBytes > 0 else { return nil }
        let tag = try varint()
        guard let wire = WireType(rawValue: UInt8(tag & 7)), tag >> 3 != 0 else {
            throw TTRPCDecodingError("invalid protobuf tag \(tag)")
        }
        return (tag >> 3, wire)
    }

    mutating func varint() throws(TTRPCDecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = buffer.readInteger(as: UInt8.self) else { throw TTRPCDecodingError("truncated varint") }
            guard shift < 64 else { throw TTRPCDecodingError("varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func bytes() throws(TTRPCDecodingError) -> ByteBuffer {
        let length = try varint()
        guard length <= UInt64(buffer.readableBytes), let slice = buffer.readSlice(length: Int(length)) else {
            throw TTRPCDecodingError("length \(length) runs past the end of the message")
        }
        return slice
    }

    mutating func string() throws(TTRPCDecodingError) -> String {
        let slice = try bytes()
        guard let text = String(validating: slice.readableBytesView, as: UTF8.self) else {
            throw TTRPCDecodingError("a string field is not valid UTF-8")
        }
        return text
    }

    mutating func skip(_ wire: WireType) throws(TTRPCDecodingError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: guard buffer.readSlice(length: 8) != nil else { throw TTRPCDecodingError("truncated fixed64") }
        case .fixed32: guard buffer.readSlice(length: 4) != nil else { throw TTRPCDecodingError("truncated fixed32") }
        case .lengthDelimited: _ = try bytes()
        case .startGroup, .endGroup: throw TTRPCDecodingError("protobuf groups are not supported")
        }
    }
}

/// Writes protobuf's wire format; empty values are left out (proto3).
enum ProtobufWriter {
    static func varint(_ value: UInt64, into buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }

    static func varint(_ field: UInt64, _ value: UInt64, into buffer: inout ByteBuffer) {
        varint(field << 3 | UInt64(WireType.varint.rawValue), into: &buffer)
        varint(value, into: &buffer)
    }

    static func string(_ field: UInt64, _ value: String, into buffer: inout ByteBuffer) {
        guard !value.isEmpty else { return }
        varint(field << 3 | UInt64(WireType.lengthDelimited.rawValue), into: &buffer)
        varint(UInt64(value.utf8.count), into: &buffer)
        buffer.writeString(value)
    }

    static func bytes(_ field: UInt64, _ value: ByteBufferView, into buffer: inout ByteBuffer, always: Bool = false) {
        guard always || !value.isEmpty else { return }
        varint(field << 3 | UInt64(WireType.lengthDelimited.rawValue), into: &buffer)
        varint(UInt64(value.count), into: &buffer)
        buffer.writeBytes(value)
    }
}
