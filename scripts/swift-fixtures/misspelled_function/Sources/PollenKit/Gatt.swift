import PollenBindings

enum Gatt {
    static let contract: GattContract = gattContracts()
}
