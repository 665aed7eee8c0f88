import PollenBindings

final class Model {
    let node: PollenNode
    init(node: PollenNode) { self.node = node }

    func run<T>(refresh: Bool = true, _ body: @escaping (PollenNode) throws -> T) async -> T? {
        try? body(node)
    }

    func send(_ id: String) async {
        // tree-sitter reads this as `(await run(refresh:)) { ... }`.
        let sent = await run(refresh: false) { try $0.sendIn(conversation: id, text: "hi") }
        _ = sent
    }
}
