import CryptoKit
import Foundation
import PollenBindings
import Security

/// Seals the identity secret with an AES-256-GCM key kept in the Keychain,
/// this device only (never in a backup or iCloud), readable after the first
/// unlock because iOS relaunches the app in the background for Bluetooth.
/// The core decides what is sealed and fails closed when opening fails.
public final class KeychainGuard: KeyGuard {
    private let account: String

    public init(account: String = "org.pollen.identity") {
        self.account = account
    }

    public func seal(plain: Data) throws -> Data {
        guard let sealed = try AES.GCM.seal(plain, using: key()).combined else { throw CallbackError.Failed(detail: "no nonce") }
        return sealed
    }

    public func unseal(sealed: Data) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key())
    }

    /// The key, made and stored on first use.
    private func key() throws -> SymmetricKey {
        let query: [String: Any] = [kSecClass as String: kSecClassGenericPassword, kSecAttrAccount as String: account]
        var found: CFTypeRef?
        if SecItemCopyMatching(query.merging([kSecReturnData as String: true]) { $1 } as CFDictionary, &found) == errSecSuccess,
           let bytes = found as? Data {
            return SymmetricKey(data: bytes)
        }
        let key = SymmetricKey(size: .bits256)
        let add = query.merging([
            kSecValueData as String: key.withUnsafeBytes { Data($0) },
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]) { $1 }
        let status = SecItemAdd(add as CFDictionary, nil)
        guard status == errSecSuccess else { throw CallbackError.Failed(detail: "Keychain: \(status)") }
        return key
    }
}
