import UIKit

/// The name a new identity starts with: the device's, which the user can see and change.
enum UIDeviceName {
    @MainActor static var current: String { UIDevice.current.name }
}
