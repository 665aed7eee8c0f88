// The Android build: the `pollen` library (AAR) and the `app`. Needs the
// Android SDK and Google's Maven repository; see README.md and build-android.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "pollen-android"
include(":pollen", ":app")
