import BackgroundTasks
import UIKit

/// Starts the node at launch, also when iOS relaunches the app in the
/// background (Core Bluetooth state restoration, a background refresh),
/// and asks for background refreshes to sync with whoever is in reach.
@MainActor
final class AppDelegate: NSObject, UIApplicationDelegate {
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
        Task { await self.model.start() }
        return true
    }

    /// The scene went to the background or came back (a SwiftUI app gets no
    /// `applicationDidEnterBackground`): the node's BLE duty cycle follows,
    /// and a background refresh is asked for.
    func scene(active: Bool) {
        Task { await model.setForeground(active) }
        if !active { schedule() }
    }

    private func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: Self.refreshTask)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    /// The node is already running: give its sessions the task's time.
    private func refresh(_ task: BGTask) {
        schedule()
        let work = Task {
            try? await Task.sleep(nanoseconds: 25_000_000_000)
            task.setTaskCompleted(success: true)
        }
        task.expirationHandler = {
            work.cancel()
            task.setTaskCompleted(success: false)
        }
    }
}
