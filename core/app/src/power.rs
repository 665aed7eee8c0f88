//! Which Bluetooth power mode the phone's state calls for: the apps report
//! the screen and whether the app is in front, and apply what this decides.

use pollen_node::ble::PowerMode;

/// What the platform knows about the phone right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceState {
    /// The screen is on (interactive).
    pub screen_on: bool,
    /// The app is in front (an activity or scene is shown).
    pub app_in_front: bool,
    /// The system's battery saver is on.
    pub battery_saver: bool,
}

/// The power mode for a device state (pure):
///
/// - screen off: [`PowerMode::Saver`] (low power; nobody is looking, the
///   phone is in a pocket or on a table);
/// - app in front, screen on: [`PowerMode::Foreground`] (low latency: the
///   person waits for their messages), or [`PowerMode::Background`] under
///   the battery saver;
/// - otherwise (screen on, another app in front): [`PowerMode::Background`]
///   (balanced), or [`PowerMode::Saver`] under the battery saver.
pub fn ble_power_mode(state: DeviceState) -> PowerMode {
    match state {
        DeviceState {
            screen_on: false, ..
        } => PowerMode::Saver,
        DeviceState {
            app_in_front: true,
            battery_saver,
            ..
        } => {
            if battery_saver {
                PowerMode::Background
            } else {
                PowerMode::Foreground
            }
        }
        DeviceState {
            battery_saver: true,
            ..
        } => PowerMode::Saver,
        _ => PowerMode::Background,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(screen_on: bool, app_in_front: bool, battery_saver: bool) -> PowerMode {
        ble_power_mode(DeviceState {
            screen_on,
            app_in_front,
            battery_saver,
        })
    }

    #[test]
    fn the_app_in_front_is_low_latency() {
        assert_eq!(mode(true, true, false), PowerMode::Foreground);
    }

    #[test]
    fn the_screen_off_is_low_power_whatever_else() {
        for front in [false, true] {
            for saver in [false, true] {
                assert_eq!(mode(false, front, saver), PowerMode::Saver);
            }
        }
    }

    #[test]
    fn behind_another_app_is_balanced() {
        assert_eq!(mode(true, false, false), PowerMode::Background);
    }

    #[test]
    fn the_battery_saver_steps_each_one_down() {
        assert_eq!(mode(true, true, true), PowerMode::Background);
        assert_eq!(mode(true, false, true), PowerMode::Saver);
    }

    #[test]
    fn each_step_down_keeps_the_radio_on_less() {
        let on = |m: PowerMode| {
            let d = m.duty_cycle();
            d.scan_on_ms as f64 / d.scan_period_ms as f64
        };
        assert!(on(PowerMode::Foreground) > on(PowerMode::Background));
        assert!(on(PowerMode::Background) > on(PowerMode::Saver));
    }
}
