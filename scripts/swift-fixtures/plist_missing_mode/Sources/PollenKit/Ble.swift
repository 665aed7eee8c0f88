import CoreBluetooth

let options = [CBPeripheralManagerOptionRestoreIdentifierKey: "org.pollen.peripheral"]
