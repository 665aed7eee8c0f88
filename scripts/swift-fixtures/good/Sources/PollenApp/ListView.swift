import PollenKit

struct Row {
    let contacts: [ContactInfo]

    func names() -> [String] {
        contacts.map { $0.alias }
    }

    func verified() -> Int {
        var n = 0
        for c in contacts where c.verified { n += 1 }
        return n
    }
}
