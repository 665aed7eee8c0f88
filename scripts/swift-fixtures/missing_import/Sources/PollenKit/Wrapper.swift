import Foundation

func card(of node: PollenNode) throws -> String {
    try node.card()
}
