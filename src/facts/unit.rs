//! The unit's state, from one `systemctl show`.

use super::*;

/// One `systemctl show` for the properties the runbook reads.
pub(super) fn unit_state(unit: &str) -> Result<UnitState, String> {
    let unit = crate::actions::full_unit_name(unit);
    let values = crate::checks::unit_info::unit_properties(
        &unit,
        &[
            "ActiveState",
            "SubState",
            "Result",
            "NRestarts",
            "MainPID",
            "PIDFile",
            "ControlGroup",
            "User",
        ],
        SYSTEMCTL_TIMEOUT,
    )?;
    Ok(unit_state_of(&unit, &values))
}

pub(super) fn unit_state_of(unit: &str, values: &BTreeMap<String, String>) -> UnitState {
    let text_of = |key: &str| values.get(key).cloned().unwrap_or_default();
    let non_empty = |key: &str| values.get(key).filter(|v| !v.is_empty()).cloned();
    UnitState {
        unit: unit.to_string(),
        active_state: text_of("ActiveState"),
        sub_state: text_of("SubState"),
        result: text_of("Result"),
        n_restarts: values.get("NRestarts").and_then(|v| v.parse().ok()),
        main_pid: values
            .get("MainPID")
            .and_then(|v| v.parse().ok())
            .filter(|pid| *pid > 0),
        pid_file: non_empty("PIDFile"),
        control_group: non_empty("ControlGroup"),
        user: non_empty("User"),
    }
}
