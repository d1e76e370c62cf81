import Testing

@testable import TTRPC

/// ttrpc's `timeout_nano` and grpc-swift's `grpc-timeout`, converted both ways.
@Suite struct TimeoutTests {
    @Test func deadlinesConvertBothWays() {
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 250) == "250n")
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 2_500_000_000) == "2500000u")
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 3_600_000_000_000) == "3600000m")
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: Int64.max).hasSuffix("H"))
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "2500m") == 2_500_000_000)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "7S") == 7_000_000_000)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "x") == nil)
    }

    /// At most eight digits, as gRPC's HTTP/2 protocol allows, and never
    /// shorter than asked: a deadline rounds up, never down.
    @Test func grpcTimeoutsHaveAtMostEightDigitsAndRoundUp() {
        for nanoseconds: Int64 in [0, 1, 99_999_999, 100_000_000, 100_000_001, 123_456_789_012, 1 << 40, 1 << 62, Int64.max] {
            let text = TTRPCTimeouts.grpcTimeout(nanoseconds: nanoseconds)
            #expect(text.dropLast().count <= 8, "\(nanoseconds) -> \(text)")
            let back = TTRPCTimeouts.nanoseconds(grpcTimeout: text)
            #expect(back.map { $0 >= nanoseconds } == true, "\(nanoseconds) -> \(text) -> \(String(describing: back))")
        }
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 100_000_001) == "100001u")
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 120_000_000_000_000) == "120000S")
        #expect(TTRPCTimeouts.grpcTimeout(nanoseconds: 600_000_000_000_000_000) == "10000000M")
    }

    @Test func everyUnitParsesAndHugeValuesSaturate() {
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "5n") == 5)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "5u") == 5_000)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "5M") == 300_000_000_000)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "2H") == 7_200_000_000_000)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "99999999H") == Int64.max)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "") == nil)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "m") == nil)
        #expect(TTRPCTimeouts.nanoseconds(grpcTimeout: "10s") == nil)  // units are case-sensitive
    }
}
