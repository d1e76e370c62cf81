import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import SwiftProtobuf
import Testing

@testable import TTRPC

/// ttrpc's own protobuf messages (Request, Response, google.rpc.Status),
/// written and read by hand: round trips, unknown fields, malformed input.
@Suite struct MessageTests {
    @Test func requestsRoundTripAndSkipUnknownFields() throws {
        var request = TTRPCRequest()
        request.service = "virthost.v1.HostService"
        request.method = "GetVersion"
        request.payload = ByteBuffer(bytes: [1, 2, 3])
        request.timeoutNano = 1_500_000_000
        request.metadata = [("a", "1"), ("b", "two"), ("a", "3")]
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        // A later version's field 15 (varint) and 16 (bytes) are skipped.
        buffer.writeBytes([15 << 3, 42, 0x82, 0x01, 0x02, 0, 0])
        #expect(try TTRPCRequest(decoding: buffer) == request)
    }

    @Test func malformedMessagesAreErrorsNotCrashes() {
        let cases: [[UInt8]] = [
            [0x0a, 0x05, 0x61],  // a string running past the end
            [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],  // a huge length
            [0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // an 11-byte varint
            [0x0a, 0x02, 0xc3, 0x28],  // invalid UTF-8 in a string
            [0x00, 0x01],  // field number 0
            [0x0b],  // a group
            [0x2a, 0x03, 0x0a, 0x05, 0x61],  // a metadata pair running past its end
        ]
        for bytes in cases {
            #expect(throws: TTRPCDecodingError.self, "\(bytes)") { try TTRPCRequest(decoding: ByteBuffer(bytes: bytes)) }
        }
    }

    @Test func statusDetailsPassThroughUnchanged() throws {
        var status = Google_Protobuf_Any()
        status.typeURL = "type.googleapis.com/google.rpc.ErrorInfo"
        status.value = Data([1, 2, 3])
        var encoded = ByteBuffer()
        ProtobufWriterForTests.status(code: 5, message: "no network 'x'", details: try status.serializedBytes(), into: &encoded)
        let response = TTRPCResponse(status: try TTRPCStatus(decoding: encoded))
        var frame = ByteBuffer()
        response.encode(into: &frame)
        let decoded = try TTRPCResponse(decoding: frame)
        #expect(decoded.status.code == 5 && decoded.status.message == "no network 'x'")
        #expect(decoded.status.encoded.map { Array($0.readableBytesView) } == Array(encoded.readableBytesView))
    }

    /// proto3 leaves empty fields out; a default Request is no bytes at all,
    /// and a negative timeout survives as the 10-byte varint protobuf uses.
    @Test func emptyFieldsAreLeftOutAndNegativeNumbersRoundTrip() throws {
        var empty = ByteBuffer()
        TTRPCRequest().encode(into: &empty)
        #expect(empty.readableBytes == 0)
        #expect(try TTRPCRequest(decoding: empty) == TTRPCRequest())

        var request = TTRPCRequest()
        request.timeoutNano = -1
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        #expect(buffer.readableBytes == 11)  // tag + 10-byte varint
        #expect(try TTRPCRequest(decoding: buffer).timeoutNano == -1)
    }

    /// The Response always carries its status, even an OK one, as
    /// containerd's server writes it; its payload only when there is one.
    @Test func responsesAlwaysCarryAStatus() throws {
        var ok = ByteBuffer()
        TTRPCResponse(status: TTRPCStatus(code: 0, message: "")).encode(into: &ok)
        #expect(Array(ok.readableBytesView) == [0x0a, 0x00])
        let decoded = try TTRPCResponse(decoding: ok)
        #expect(decoded.status.code == 0 && decoded.payload.readableBytes == 0)

        var failed = ByteBuffer()
        TTRPCResponse(status: TTRPCStatus(code: 14, message: "gone"), payload: ByteBuffer(string: "p")).encode(into: &failed)
        let back = try TTRPCResponse(decoding: failed)
        #expect(back.status.code == 14 && back.status.message == "gone")
        #expect(back.payload == ByteBuffer(string: "p"))
    }

    /// A Response frame built in place decodes as the same Response.
    @Test func responseFramesDecodeAsResponses() throws {
        let payload = GRPCNIOTransportBytes(Array("reply".utf8))
        var buffer = TTRPCServerStream.responseFrame(id: 11, status: TTRPCStatus(code: 0, message: ""), payload: payload)
        var decoder = TTRPCFrameDecoder()
        guard case .frame(let frame)? = decoder.next(&buffer) else {
            Issue.record("no frame")
            return
        }
        #expect(frame.streamID == 11 && frame.kind == .response && frame.flags.isEmpty)
        let response = try TTRPCResponse(decoding: frame.data)
        #expect(response.status.code == 0)
        #expect(response.payload == ByteBuffer(string: "reply"))
        #expect(buffer.readableBytes == 0)
    }

    /// A handler's google.rpc.Status (in `grpc-status-details-bin`) is passed
    /// on whole when its code agrees with the call's; otherwise only code and
    /// message are.
    @Test func statusDetailsFromTrailersAreKeptWhenTheyAgree() throws {
        var details = ByteBuffer()
        ProtobufWriterForTests.status(code: 5, message: "no domain 'x'", details: [0x0a, 0x01, 0x61], into: &details)
        var trailers = Metadata()
        trailers.addBinary(Array(details.readableBytesView), forKey: "grpc-status-details-bin")
        let kept = TTRPCServerStream.status(Status(code: .notFound, message: "no domain 'x'"), trailers)
        #expect(kept.code == 5)
        #expect(kept.encoded.map { Array($0.readableBytesView) } == Array(details.readableBytesView))

        let disagreeing = TTRPCServerStream.status(Status(code: .internalError, message: "boom"), trailers)
        #expect(disagreeing == TTRPCStatus(code: 13, message: "boom"))
        let plain = TTRPCServerStream.status(Status(code: .unavailable, message: "later"), [:])
        #expect(plain == TTRPCStatus(code: 14, message: "later"))
    }

    @Test func varintsRoundTripAtTheirBoundaries() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16383, 16384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max] {
            var buffer = ByteBuffer()
            ProtobufWriter.varint(value, into: &buffer)
            let expectedLength = value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
            #expect(buffer.readableBytes == expectedLength, "\(value)")
            var reader = ProtobufReader(buffer)
            #expect(try reader.varint() == value)
            #expect(reader.buffer.readableBytes == 0)
        }
    }

    @Test func everyWireTypeButGroupsCanBeSkipped() throws {
        var buffer = ByteBuffer()
        ProtobufWriter.varint(1, 300, into: &buffer)  // varint
        buffer.writeBytes([2 << 3 | 1, 1, 2, 3, 4, 5, 6, 7, 8])  // fixed64
        buffer.writeBytes([3 << 3 | 5, 1, 2, 3, 4])  // fixed32
        ProtobufWriter.string(4, "text", into: &buffer)  // length-delimited
        var reader = ProtobufReader(buffer)
        var fields: [UInt64] = []
        while let (field, wire) = try reader.nextField() {
            fields.append(field)
            try reader.skip(wire)
        }
        #expect(fields == [1, 2, 3, 4])
        // Truncated fixed-size fields are errors.
        var short = ProtobufReader(ByteBuffer(bytes: [2 << 3 | 1, 1, 2]))
        let (_, wire) = try #require(try short.nextField())
        #expect(throws: TTRPCDecodingError.self) { try short.skip(wire) }
    }
}

enum ProtobufWriterForTests {
    /// A google.rpc.Status with one detail.
    static func status(code: Int32, message: String, details: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeBytes([0x08, UInt8(code)])
        buffer.writeBytes([0x12, UInt8(message.utf8.count)])
        buffer.writeString(message)
        buffer.writeBytes([0x1a, UInt8(details.count)])
        buffer.writeBytes(details)
    }
}
