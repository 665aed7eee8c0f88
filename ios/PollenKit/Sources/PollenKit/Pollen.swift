import Foundation
// The app sees the generated records and enums through PollenKit.
@_exported import PollenBindings

/// A Pollen node for Swift: the generated `PollenNode`, whose blocking calls
/// run off Swift's cooperative pool through `call`. Errors are thrown as
/// `PollenError`. Every decision is the node's and the app model's (Rust).
public final class Pollen: @unchecked Sendable {
    /// The generated object.
    public let node: PollenNode
    // The core blocks the caller until its own thread is done; this queue
    // keeps that wait off Swift's cooperative thread pool.
    private static let calls = DispatchQueue(label: "pollen.calls", attributes: .concurrent)

    private init(node: PollenNode) {
        self.node = node
    }

    /// Opens the identity in `dataDir`, creating one called `name` (and the
    /// directory) on first use, its secret sealed by the Keychain: the
    /// core's `PollenNode.openOrCreateGuarded`. The directory is kept out of
    /// iCloud and computer backups: nothing of Pollen leaves the phone that way.
    public static func openOrCreate(dataDir: String, name: String) async throws -> Pollen {
        try await offThread {
            let node = try PollenNode.openOrCreateGuarded(dataDir: dataDir, name: name, keystore: KeychainGuard())
            var url = URL(fileURLWithPath: dataDir, isDirectory: true)
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try url.setResourceValues(values)
            return Pollen(node: node)
        }
    }

    private static func offThread<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            calls.async { done.resume(with: Result { try body() }) }
        }
    }

    /// Runs one blocking node call off the cooperative pool.
    public func call<T>(_ body: @escaping (PollenNode) throws -> T) async throws -> T {
        let node = self.node
        return try await Self.offThread { try body(node) }
    }
}
