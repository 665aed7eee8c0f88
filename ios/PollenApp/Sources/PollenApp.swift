import SwiftUI

/// The app: one node for the whole process, four screens in tabs.
@main
struct PollenApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate
    @Environment(\.scenePhase) private var phase

    var body: some Scene {
        WindowGroup {
            TabView {
                NavigationStack { ConversationsView() }
                    .tabItem { Label("Chats", systemImage: "bubble.left.and.bubble.right") }
                NavigationStack { ContactsView() }
                    .tabItem { Label("Contacts", systemImage: "person.2") }
                NavigationStack { NearbyView() }
                    .tabItem { Label("Nearby", systemImage: "dot.radiowaves.left.and.right") }
                NavigationStack { SettingsView() }
                    .tabItem { Label("Settings", systemImage: "gear") }
            }
            .environmentObject(delegate.model)
        }
        .onChange(of: phase) { phase in
            if phase != .inactive { delegate.scene(active: phase == .active) }
        }
    }
}
