//! `uniffi-bindgen`: generates Kotlin, Swift and Python from `libpollen_ffi`,
//! built from the same UniFFI version as the library so the two always agree.

fn main() {
    uniffi::uniffi_bindgen_main()
}
