import PollenBindings

enum Gatt {
    static let contract: GattContract = gattContract(version: 1)
}
