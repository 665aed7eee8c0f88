//! Link framing: length-prefixed records, fragmentation and reassembly.
