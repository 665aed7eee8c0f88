import BackgroundTasks
import UIKit
import UserNotifications

/// Starts the node at launch, also when iOS relaunches the app in the
/// background (Core Bluetooth state restoration, a background refresh),
/// asks for background refreshes to hand mail to the relays the user gave,
/// and opens the chat of a tapped notification.
@MainActor
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    /// Listed in project.yml as BGTaskSchedulerPermittedIdentifiers.
    static let refreshTask = "org.pollen.app.refresh"
    let model = AppModel()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.refreshTask, using: nil) { task in
            Task { @MainActor in self.refresh(task) }
        }
        UNUserNotificationCenter.current().delegate = self
        Task { await self.model.start() }
        return true
    }

    /// A tapped notification: its chat opens (the core put the chat's id in it).
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        didReceive response: UNNotificationResponse,
        withCompletionHandler completionHandler: @escaping () -> Void
    ) {
        let id = response.notification.request.content.userInfo["conversationId"] as? String
        Task { @MainActor in
            if let id { await self.model.openChat(conversationId: id) }
            completionHandler()
        }
    }

    /// In the foreground the app model already decided a notification is
    /// due (never for the chat on screen): show it as a banner.
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification,
        withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
    ) {
        completionHandler([.banner, .list, .sound])
    }

    /// The scene went to the background or came back (a SwiftUI app gets no
    /// `applicationDidEnterBackground`): the app model's feed decides what
    /// follows (notifications, the BLE duty cycle, with Low Power Mode), and a
    /// background refresh is asked for.
    func scene(active: Bool) {
        model.feed?.setForeground(on: active, batterySaver: ProcessInfo.processInfo.isLowPowerModeEnabled)
        if !active { schedule() }
    }

    private func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: Self.refreshTask)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    /// The node is already running and syncs with whoever is in reach; the
    /// task's seconds of network go to the relays the user gave, one session
    /// each (this phone's mail and what it carries go up, its own comes down):
    /// the core's `syncRelays`.
    private func refresh(_ task: BGTask) {
        schedule()
        let model = self.model
        let work = Task {
            _ = try? await model.pollen?.node.syncRelays()
            await model.refresh()
            task.setTaskCompleted(success: true)
        }
        task.expirationHandler = {
            work.cancel()
            task.setTaskCompleted(success: false)
        }
    }
}
