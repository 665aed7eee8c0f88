@_exported import PollenBindings

public final class Pollen {
    let node: PollenNode
    init(node: PollenNode) { self.node = node }
    public func send(conversation: String, text: String) throws -> SentInfo {
        try node.send(conversation: conversation, text: text)
    }
}
