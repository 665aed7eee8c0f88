import BackgroundTasks

enum Refresh {
    static let id = "org.pollen.app.refresh"
    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.id, using: nil) { task in
            task.setTaskCompleted(success: true)
        }
        try? BGTaskScheduler.shared.submit(BGAppRefreshTaskRequest(identifier: Self.id))
    }
}
