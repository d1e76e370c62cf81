// swift-tools-version:6.0
import PackageDescription

// One Swift-native stack: gRPC and protobuf from grpc-swift-2 and swift-protobuf,
// libvirt through its C API. Versions are pinned to what the package mirror holds.
let package = Package(
    name: "virthost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "virthostd", targets: ["virthostd"]),
        .executable(name: "virthost", targets: ["virthost"]),
        .executable(name: "virthost-bench", targets: ["virthost-bench"]),
        .library(name: "VirtHostClient", targets: ["VirtHostClient"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        // SHA-256 of uploaded and downloaded volume bytes; already built for the transport's TLS stack.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // Metrics: swift-metrics' API, exported in Prometheus' text format by swift-prometheus 2.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Latency histograms for virthost-bench.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
    ],
    targets: [
        // libvirt's C API (Debian: libvirt-dev), including libvirt-qemu for the guest agent.
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // libnl-route-3 (Debian: libnl-route-3-dev) for rtnetlink, and the TUN/TAP ioctls.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-route-3-dev"])]
        ),
        // Host links over rtnetlink: bridges, TAPs, VLANs, bonds; knows nothing about gRPC.
        .target(
            name: "HostNetworking",
            dependencies: ["CNetlink"]
        ),
        // Swift binding over the C API; knows nothing about gRPC.
        .target(
            name: "Libvirt",
            dependencies: ["CLibvirt", "CVirtHostSys"]
        ),
        // Generated protobuf and gRPC code only: `make generate` rewrites it.
        .target(
            name: "VirtHostAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The libvirt version of the headers a binary was compiled with; links nothing.
        .target(name: "CLibvirtVersion"),
        // libxml2 (Debian: libxml2-dev), and a Swift wrapper with FoundationXML's API
        // shape: FoundationXML leaks memory on Linux.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "LibXML", dependencies: ["CLibXML2"]),
        // SQLite's C API (Debian: libsqlite3-dev) for the agent's state database:
        // request ids and operations. One small file, WAL mode.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Linux structs Swift's Glibc module hides (struct ucred for SO_PEERCRED).
        .target(name: "CVirtHostSys"),
        // containerd's ttrpc framing as grpc-swift transports (server and client):
        // the same services on a leaner wire; knows nothing about libvirt.
        .target(
            name: "TTRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The services: proto <-> libvirt mapping, XML builders, error mapping.
        .target(
            name: "VirtHostServer",
            dependencies: [
                "Libvirt",
                "HostNetworking",
                "VirtHostAPI",
                "CVirtHostSys",
                "LibXML",
                "TTRPC",
                "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Thin client library: connect to the socket, typed async calls.
        .target(
            name: "VirtHostClient",
            dependencies: [
                "VirtHostAPI",
                "TTRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The CLI's commands and output formatting (a library so tests can drive it).
        .target(
            name: "VirtHostCLI",
            dependencies: [
                "VirtHostClient",
                "CLibvirtVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "virthostd",
            dependencies: [
                "VirtHostServer",
                "CLibvirtVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "virthost",
            dependencies: ["VirtHostCLI"],
            // A process per command: linked with the Swift runtime inside
            // (--static-swift-stdlib), swiftc exports all 56,000 symbols of
            // the binary, and the dynamic loader pays for them at every start
            // (1.3-1.7 ms of a 7-12 ms `virthost --version`, BENCHMARKS.md).
            // Nothing looks the CLI's own symbols up; the stripped binary of
            // the package then has no symbol names at all.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))]
        ),
        // The benchmark: libvirt in-process, the agent, virsh and a raw socket side by side.
        .executableTarget(
            name: "virthost-bench",
            dependencies: [
                "Libvirt",
                "VirtHostClient",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "LibXMLTests", dependencies: ["LibXML"]),
        // Needs root only for its tests that change links; they skip otherwise.
        .testTarget(name: "HostNetworkingTests", dependencies: ["HostNetworking", "CNetlink"]),
        .testTarget(
            name: "TTRPCTests",
            dependencies: [
                "TTRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "VirtHostClientTests",
            dependencies: [
                "VirtHostClient", "TTRPC", "Libvirt",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "VirtHostServerTests",
            dependencies: [
                "VirtHostServer", "VirtHostClient", "Libvirt", "LibXML", "TTRPC", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "VirtHostCLITests",
            dependencies: [
                "VirtHostCLI", "VirtHostServer", "VirtHostClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["VirtHostClient", "Libvirt", "HostNetworking", "LibXML"]
        ),
    ]
)
