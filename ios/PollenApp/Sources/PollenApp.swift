import SwiftUI

/// The app: one node for the whole process, four screens in tabs.
@main
struct PollenApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate
    @Environment(\.scenePhase) private var phase

    var body: some Scene {
        WindowGroup {
            TabView(selection: Binding(get: { delegate.model.tab }, set: { delegate.model.tab = $0 })) {
                NavigationStack(path: Binding(get: { delegate.model.chatPath }, set: { delegate.model.chatPath = $0 })) {
                    ConversationsView()
                }
                .tabItem { Label("Chats", systemImage: "bubble.left.and.bubble.right") }
                .tag(AppModel.Tab.chats)
                NavigationStack { ContactsView() }
                    .tabItem { Label("Contacts", systemImage: "person.2") }
                    .tag(AppModel.Tab.contacts)
                NavigationStack { NearbyView() }
                    .tabItem { Label("Nearby", systemImage: "dot.radiowaves.left.and.right") }
                    .tag(AppModel.Tab.nearby)
                NavigationStack { SettingsView() }
                    .tabItem { Label("Settings", systemImage: "gear") }
                    .tag(AppModel.Tab.settings)
            }
            .environmentObject(delegate.model)
            // The app switcher's snapshot is taken once the scene is no longer active.
            .overlay { if phase != .active && delegate.model.settings?.screenPrivate != false { Color(uiColor: .systemBackground).ignoresSafeArea() } }
        }
        .onChange(of: phase) { phase in
            if phase != .inactive { delegate.scene(active: phase == .active) }
        }
    }
}
