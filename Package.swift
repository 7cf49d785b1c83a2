// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "nestlab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nestlab", targets: ["nestlab"]),
        .library(name: "NestlabCore", targets: ["NestlabCore"]),
        .library(name: "NestlabKit", targets: ["NestlabKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        // MARK: C system libraries and shims (only the wrapper modules import these)
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "CCurlShims",
            dependencies: ["CCurl"]
        ),

        // MARK: Swift wrappers over C
        .target(
            name: "Libvirt",
            dependencies: ["CLibvirt"]
        ),
        .target(
            name: "Curl",
            dependencies: [
                "CCurl", "CCurlShims",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // MARK: starting programs (posix_spawn; every program nestlab and its tests start)
        .target(name: "Spawn"),

        // MARK: nestlab
        .target(
            name: "NestlabCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "NestlabKit",
            dependencies: [
                "NestlabCore", "Libvirt", "Curl", "Spawn",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .executableTarget(
            name: "nestlab",
            dependencies: [
                "NestlabKit", "NestlabCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "nestlab-bench",
            dependencies: ["NestlabKit", "NestlabCore", "Libvirt", "Curl"]
        ),

        // MARK: tests
        .target(
            name: "NestlabTestSupport",
            dependencies: ["Spawn"],
            path: "Tests/NestlabTestSupport"
        ),
        .testTarget(
            name: "NestlabCoreTests",
            dependencies: ["NestlabCore", "Spawn", "NestlabTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LibvirtTests",
            dependencies: ["Libvirt"]
        ),
        .testTarget(
            name: "CurlTests",
            dependencies: ["Curl", "Spawn", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Server"]
        ),
        .testTarget(
            name: "NestlabKitTests",
            dependencies: ["NestlabKit", "NestlabCore", "Libvirt", "Spawn", "NestlabTestSupport"]
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: ["NestlabKit", "NestlabCore", "Libvirt", "Spawn", "NestlabTestSupport"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["NestlabCore", "Spawn"]
        ),
    ]
)
