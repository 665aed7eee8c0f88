import Foundation

enum Shared {
    static let group = "group.org.pollen"
    static let folder = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: group)
}
