// Pollen's shared documents for another app of the same team, through the
// App Group container both apps hold: the app leaves change requests in
// its folder and reads back the documents the user granted it, which Pollen
// writes whenever it runs (`core/app/src/app_group.rs` has the layout).
// Foundation only: no Pollen binary in the other app.

import Foundation

/// A document this app was granted, as Pollen lists it.
public struct PollenDoc: Decodable, Sendable {
    public let id: String
    /// `board`, `doc` or an app's own kind.
    public let app: String
    public let title: String
    /// This app may change it now.
    public let writable: Bool
    /// Unix seconds of its last change.
    public let updatedAt: UInt64

    enum CodingKeys: String, CodingKey {
        case id, app, title, writable
        case updatedAt = "updated_at"
    }
}

/// Pollen's answer to a change request.
public enum PollenDocsAnswer: Equatable, Sendable {
    case pending
    case made
    case refused(String)
}

/// This app's folder in the App Group container Pollen shares.
public struct PollenDocs: Sendable {
    private let folder: URL

    /// `appGroup` as in both apps' entitlements (Pollen's is `group.org.pollen`);
    /// `appId` names this app to the user, who grants it documents in Pollen's
    /// Settings. Makes the folder, so Pollen offers the app there. Nil without the App Group.
    public init?(appGroup: String = "group.org.pollen", appId: String = Bundle.main.bundleIdentifier ?? "") {
        guard !appId.isEmpty,
              let root = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup)
        else { return nil }
        folder = root.appendingPathComponent("pollen-docs").appendingPathComponent(appId)
        try? FileManager.default.createDirectory(at: folder.appendingPathComponent("requests"), withIntermediateDirectories: true)
    }

    /// The documents granted to this app, as Pollen last wrote them.
    public func docs() -> [PollenDoc] {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("docs.json")) else { return [] }
        return (try? JSONDecoder().decode([PollenDoc].self, from: data)) ?? []
    }

    /// A granted document's content (JSON), or nil.
    public func content(of doc: String) -> Any? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("docs/\(doc).json")) else { return nil }
        return try? JSONSerialization.jsonObject(with: data)
    }

    /// Asks Pollen for one change: `edits` are `["op": "set"|"push", "path": "a/b",
    /// "value": …]` or `["op": "delete", "path": "a/b"]`. Returns the request's
    /// name, for `answer(to:)`; Pollen makes or refuses it when it next runs.
    public func change(_ doc: String, edits: [[String: Any]]) throws -> String {
        let name = "\(UUID().uuidString).json"
        let body = try JSONSerialization.data(withJSONObject: ["doc": doc, "edits": edits])
        let staged = folder.appendingPathComponent("requests/.\(name)")
        try body.write(to: staged)
        try FileManager.default.moveItem(at: staged, to: folder.appendingPathComponent("requests/\(name)"))
        return name
    }

    /// Pollen's answer to a request (`change` returned its name).
    public func answer(to request: String) -> PollenDocsAnswer {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("results/\(request)")),
              let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return .pending }
        if let why = answer["error"] as? String { return .refused(why) }
        return .made
    }
}
