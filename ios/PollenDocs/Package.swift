// swift-tools-version:5.9
// For other apps of the same team: Pollen's shared documents through the
// App Group folder (no Pollen binary needed; docs/THREAT_MODEL.md).
import PackageDescription

let package = Package(
    name: "PollenDocs",
    platforms: [.iOS(.v16)],
    products: [.library(name: "PollenDocs", targets: ["PollenDocs"])],
    targets: [.target(name: "PollenDocs")]
)
