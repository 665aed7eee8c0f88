// swift-tools-version:5.9
// (5.9 and 6.0 both build with Xcode 16; 5.9 keeps the Swift 5 language mode.)
// PollenKit: the Pollen core for Swift. `ios/build-ios.sh` (on a Mac) builds
// Frameworks/pollenFFI.xcframework and copies the UniFFI-generated
// Sources/PollenBindings/pollen.swift; neither is committed.
import PackageDescription

let package = Package(
    name: "PollenKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PollenKit", targets: ["PollenKit"]),
    ],
    targets: [
        // The Rust core as a static library per platform, with the C header
        // and module map of the `pollenFFI` module the generated Swift imports.
        .binaryTarget(name: "pollenFFI", path: "Frameworks/pollenFFI.xcframework"),
        // UniFFI's generated Swift, as it comes out of the generator.
        .target(name: "PollenBindings", dependencies: ["pollenFFI"], path: "Sources/PollenBindings"),
        // The thin hand-written layer: node calls off the cooperative pool, BLE, Bonjour.
        .target(name: "PollenKit", dependencies: ["PollenBindings"], path: "Sources/PollenKit"),
    ]
)
