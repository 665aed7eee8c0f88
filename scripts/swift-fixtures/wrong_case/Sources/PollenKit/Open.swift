import PollenBindings

func open(_ dir: String) throws -> PollenNode? {
    do {
        return try PollenNode.open(dataDir: dir)
    } catch PollenError.notInitialized {
        return nil
    }
}
