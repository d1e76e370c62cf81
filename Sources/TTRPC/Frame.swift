import GRPCCore
import NIOCore

/// One ttrpc message frame: a 10-byte big-endian header (data length u32,
/// stream id u32, type u8, flags u8) and the data.
public struct TTRPCFrame: Sendable, Equatable {
    /// The three message types of the protocol; others are ignored.
    public enum Kind: UInt8, Sendable {
        case request = 1
        case response = 2
        case data = 3
    }

    /// Flags of Request and Data messages.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The sender sends no more data on this stream.
        public static let remoteClosed = Flags(rawValue: 0x1)
        /// A request whose sender goes on sending data (client streaming).
        public static let remoteOpen = Flags(rawValue: 0x2)
        /// A data message without payload (only closes the stream).
        public static let noData = Flags(rawValue: 0x4)
    }

    /// The header's size in bytes.
    public static let headerSize = 10
    /// The protocol's limit on a frame's data: 4 MiB.
    public static let maxDataLength = 4 << 20

    public var streamID: UInt32
    /// The raw type byte (see ``Kind``).
    public var type: UInt8
    public var flags: Flags
    public var data: ByteBuffer

    public init(streamID: UInt32, type: UInt8, flags: Flags = [], data: ByteBuffer = ByteBuffer()) {
        self.streamID = streamID
        self.type = type
        self.flags = flags
        self.data = data
    }

    public init(streamID: UInt32, kind: Kind, flags: Flags = [], data: ByteBuffer = ByteBuffer()) {
        self.init(streamID: streamID, type: kind.rawValue, flags: flags, data: data)
    }

    public var kind: Kind? { Kind(rawValue: type) }

    /// Writes header and data, in one buffer.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(data.readableBytes))
        buffer.writeInteger(streamID)
        buffer.writeInteger(type)
        buffer.writeInteger(flags.rawValue)
        buffer.writeImmutableBuffer(data)
    }

    /// Writes a frame whose data is written in place by `body` (no copy):
    /// the length is patched in afterwards.
    public static func encode(
        streamID: UInt32, kind: Kind, flags: Flags = [], into buffer: inout ByteBuffer,
        _ body: (inout ByteBuffer) -> Void
    ) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(streamID)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(flags.rawValue)
        body(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - headerSize), at: start)
    }
}

/// What the frame decoder passes on.
public enum TTRPCFrameEvent: Sendable, Equatable {
    case frame(TTRPCFrame)
    /// A frame announced more data than allowed; its data is skipped as it
    /// arrives, and the stream can be answered RESOURCE_EXHAUSTED.
    case oversized(streamID: UInt32, type: UInt8, length: UInt32)
}

/// Splits the byte stream into frames. A frame over the limit is reported
/// and skipped, as containerd's ttrpc does, so the connection stays usable.
public struct TTRPCFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = TTRPCFrameEvent

    private let maxDataLength: Int
    /// Bytes of an oversized frame still to skip.
    private var skipping = 0

    public init(maxDataLength: Int = TTRPCFrame.maxDataLength) {
        self.maxDataLength = maxDataLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if let event = next(&buffer) {
            context.fireChannelRead(NIOAny(event))
            return .continue
        }
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // A frame cut off by the peer's close is dropped.
        try decode(context: context, buffer: &buffer)
    }

    /// The next event in `buffer`, consuming it; nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) -> TTRPCFrameEvent? {
        if skipping > 0 {
            let count = min(skipping, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: count)
            skipping -= count
            if skipping > 0 { return nil }
        }
        guard buffer.readableBytes >= TTRPCFrame.headerSize,
            let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self)
        else { return nil }
        if Int(length) > maxDataLength {
            let (_, streamID, type, _) = buffer.readMultipleIntegers(as: (UInt32, UInt32, UInt8, UInt8).self)!
            skipping = Int(length)
            return .oversized(streamID: streamID, type: type, length: length)
        }
        guard buffer.readableBytes >= TTRPCFrame.headerSize + Int(length) else { return nil }
        let (_, streamID, type, flags) = buffer.readMultipleIntegers(as: (UInt32, UInt32, UInt8, UInt8).self)!
        let data = buffer.readSlice(length: Int(length))!
        return .frame(TTRPCFrame(streamID: streamID, type: type, flags: .init(rawValue: flags), data: data))
    }
}

extension Status.Code {
    init(ttrpc code: Int32) {
        self = Status.Code(rawValue: Int(code)) ?? .unknown
    }
}
