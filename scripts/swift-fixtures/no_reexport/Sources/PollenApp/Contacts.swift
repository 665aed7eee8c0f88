import PollenKit

struct Contacts {
    var list: [ContactInfo] = []
}
