import PollenBindings

func up(_ node: PollenNode) throws {
    try node.linkUp(id: 1, peer: "p", initiator: true, maxWrite: 182)
}
