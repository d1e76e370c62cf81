import NIOCore
import Testing

@testable import TTRPC

/// ttrpc's framing: a 10-byte header and the data, split anywhere by the
/// socket, with oversized frames reported and skipped.
@Suite struct FrameTests {
    @Test func framesSplitAnywhereDecodeTheSame() throws {
        var stream = ByteBuffer()
        let frames = [
            TTRPCFrame(streamID: 1, kind: .request, data: ByteBuffer(string: "hello")),
            TTRPCFrame(streamID: 3, kind: .data, flags: [.remoteClosed, .noData]),
            TTRPCFrame(streamID: 5, type: 0x7f, flags: .init(rawValue: 0x80), data: ByteBuffer(repeating: 9, count: 300)),
        ]
        for frame in frames { frame.encode(into: &stream) }
        let bytes = Array(stream.readableBytesView)
        for cut in 0...bytes.count {
            var decoder = TTRPCFrameDecoder()
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            var seen: [TTRPCFrameEvent] = []
            while let event = decoder.next(&buffer) { seen.append(event) }
            buffer.discardReadBytes()
            buffer.writeBytes(bytes[cut...])
            while let event = decoder.next(&buffer) { seen.append(event) }
            #expect(seen == frames.map { .frame($0) }, "cut at \(cut)")
        }
    }

    @Test func anOversizedFrameIsReportedSkippedAndTheNextOneDecodes() {
        var decoder = TTRPCFrameDecoder(maxDataLength: 16)
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt32(40), UInt32(7), UInt8(1), UInt8(0))
        buffer.writeBytes([UInt8](repeating: 0xAA, count: 40))
        TTRPCFrame(streamID: 9, kind: .request, data: ByteBuffer(string: "ok")).encode(into: &buffer)
        #expect(decoder.next(&buffer) == .oversized(streamID: 7, type: 1, length: 40))
        #expect(decoder.next(&buffer) == .frame(TTRPCFrame(streamID: 9, kind: .request, data: ByteBuffer(string: "ok"))))
        #expect(decoder.next(&buffer) == nil)
        // A length with the reserved first byte set is simply oversized.
        var reserved = ByteBuffer(bytes: [0x01, 0, 0, 0, 0, 0, 0, 1, 1, 0])
        #expect(decoder.next(&reserved) == .oversized(streamID: 1, type: 1, length: 1 << 24))
    }

    /// The skipped data of an oversized frame may arrive in pieces, across
    /// several reads; the frame after it still decodes.
    @Test func anOversizedFrameSkipsAcrossReads() {
        var decoder = TTRPCFrameDecoder(maxDataLength: 4)
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt32(10), UInt32(3), UInt8(3), UInt8(0))
        buffer.writeBytes([1, 2, 3])
        #expect(decoder.next(&buffer) == .oversized(streamID: 3, type: 3, length: 10))
        #expect(decoder.next(&buffer) == nil)
        buffer.writeBytes([4, 5, 6, 7, 8, 9])
        #expect(decoder.next(&buffer) == nil)
        buffer.writeBytes([10])
        TTRPCFrame(streamID: 5, kind: .data, data: ByteBuffer(string: "abcd")).encode(into: &buffer)
        #expect(decoder.next(&buffer) == .frame(TTRPCFrame(streamID: 5, kind: .data, data: ByteBuffer(string: "abcd"))))
        #expect(buffer.readableBytes == 0)
    }

    @Test func theHeaderIsBigEndianLengthIdTypeFlags() {
        var buffer = ByteBuffer()
        TTRPCFrame(streamID: 0x0102_0304, kind: .response, flags: .remoteClosed, data: ByteBuffer(bytes: [0xEE, 0xFF]))
            .encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 2, 1, 2, 3, 4, 2, 1, 0xEE, 0xFF])
        #expect(TTRPCFrame.headerSize == 10)
        #expect(TTRPCFrame.maxDataLength == 4 << 20)
    }

    /// The in-place encoder patches the length once the body is written.
    @Test func inPlaceEncodingPatchesTheLength() {
        var buffer = ByteBuffer(bytes: [0x55])  // something already in the buffer
        TTRPCFrame.encode(streamID: 7, kind: .data, flags: .noData, into: &buffer) { out in
            out.writeString("payload")
        }
        #expect(buffer.readInteger(as: UInt8.self) == 0x55)
        var decoder = TTRPCFrameDecoder()
        #expect(decoder.next(&buffer) == .frame(TTRPCFrame(streamID: 7, kind: .data, flags: .noData, data: ByteBuffer(string: "payload"))))
        // An empty body is a frame of length 0.
        var empty = ByteBuffer()
        TTRPCFrame.encode(streamID: 9, kind: .response, into: &empty) { _ in }
        #expect(empty.readableBytes == TTRPCFrame.headerSize)
        #expect(empty.getInteger(at: 0, as: UInt32.self) == 0)
    }

    @Test func unknownTypesHaveNoKind() {
        #expect(TTRPCFrame(streamID: 1, type: 1).kind == .request)
        #expect(TTRPCFrame(streamID: 1, type: 2).kind == .response)
        #expect(TTRPCFrame(streamID: 1, type: 3).kind == .data)
        #expect(TTRPCFrame(streamID: 1, type: 0).kind == nil)
        #expect(TTRPCFrame(streamID: 1, type: 9).kind == nil)
    }
}
