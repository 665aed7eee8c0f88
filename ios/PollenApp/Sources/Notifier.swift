import PollenKit
import UserNotifications

/// Draws the notifications the app model decides on (`notificationForMessage`):
/// one per chat, replaced by the next, grouped by chat.
enum Notifier {
    static func authorize() {
        UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]) { _, _ in }
    }

    static func post(_ info: NotificationInfo) {
        let content = UNMutableNotificationContent()
        content.title = info.title
        content.body = info.body
        content.threadIdentifier = info.conversationId
        content.userInfo = ["conversationId": info.conversationId]
        content.subtitle = info.subtitle ?? ""
        let request = UNNotificationRequest(identifier: info.conversationId, content: content, trigger: nil)
        UNUserNotificationCenter.current().add(request)
    }
}
