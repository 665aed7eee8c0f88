import PollenKit

func say(_ pollen: Pollen) throws {
    _ = try pollen.send(to: "bob", text: "hi")
}
