import PollenBindings

let options = RunOptions(lan: true, listen: "0.0.0.0:0", mdns: false)
