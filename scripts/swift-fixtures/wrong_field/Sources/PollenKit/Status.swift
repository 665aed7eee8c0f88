import PollenBindings

func stored(_ node: PollenNode) throws -> UInt64 {
    let status = try node.status()
    return status.envelopeStored
}
