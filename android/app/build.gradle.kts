// The Pollen app: plain Android framework views (no AndroidX), so that every
// file also type-checks on CI against android-all (scripts/test-mobile.sh).
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.pollen.app"
    compileSdk = 36

    defaultConfig {
        applicationId = "org.pollen.app"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":pollen"))
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    // QR codes: encode our card, decode a photographed one (pure Java).
    implementation("com.google.zxing:core:3.5.4")
}
