import PollenBindings

final class Wrapper {
    private let node: PollenNode

    init(node: PollenNode) { self.node = node }

    func add(_ card: String) throws -> ContactInfo {
        try node.addContatc(card: card, alias: nil)
    }
}
