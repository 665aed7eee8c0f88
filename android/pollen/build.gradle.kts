// The Pollen Android library: UniFFI-generated Kotlin (made at build time by
// scripts/bindings.sh), the wrapper, the foreground service, and the core's
// .so files (made by build-android.sh with cargo-ndk).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot: File = rootDir.parentFile
val generatedKotlin = File(repoRoot, "target/bindings/kotlin")

android {
    namespace = "org.pollen.android"
    compileSdk = 36

    defaultConfig {
        // startForegroundService and notification channels: Android 8.
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].java.srcDir(generatedKotlin)
    sourceSets["main"].jniLibs.srcDir(File(repoRoot, "target/android/jniLibs"))

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests.all {
            // Robolectric runs the real core: the host build of the library.
            it.systemProperty("jna.library.path", File(repoRoot, "target/bindings/lib").path)
            it.systemProperty("pollen.manifest", file("src/main/AndroidManifest.xml").path)
        }
    }
}

kotlin {
    jvmToolchain(17)
}

// The generated Kotlin is never committed: it comes from the Rust crate.
val generateBindings by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine("scripts/bindings.sh", "--release")
    outputs.dir(generatedKotlin)
}
tasks.named("preBuild") { dependsOn(generateBindings) }

dependencies {
    // UniFFI's Kotlin loads the core through JNA; the AAR carries its .so files.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")

    testImplementation("junit:junit:4.13.2")
    testImplementation("org.robolectric:robolectric:4.16.1")
    // On the JVM, the plain jar: it finds the host library on jna.library.path.
    testImplementation("net.java.dev.jna:jna:5.19.1")
}
