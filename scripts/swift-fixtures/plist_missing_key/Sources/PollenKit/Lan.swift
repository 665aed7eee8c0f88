import Network

let browser = NWBrowser(for: .bonjour(type: "_pollen._tcp", domain: nil), using: .tcp)
