import PollenBindings

public final class Pollen {}
