import SwiftUI

/// The app: one node for the whole process, five screens in tabs.
@main
struct PollenApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate

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
    }
}
