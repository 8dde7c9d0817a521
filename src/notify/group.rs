//! One message out of several notifications: those one run queued for the same channel and
//! recipient share a batch and an idempotency key, and go out together, worst first in the
//! order they were queued. A batch of one is sent exactly as it was composed.

use super::{clipped, json, merged, Outbound};
use crate::model::{Channel, NotificationKind, Severity};
use crate::store::Notification;
use std::fmt::Write;

/// The message a batch makes; `members` are the batch's notifications (one channel and
/// recipient), oldest first; None when there are none.
pub fn outbound(
    host: &str,
    members: &[Notification],
    link_of: &dyn Fn(i64) -> String,
) -> Option<Outbound> {
    let first = members.first()?;
    let kind = first.kind;
    let severity = (kind != NotificationKind::AllClear)
        .then(|| members.iter().map(|m| m.severity).max_by_key(|s| rank(*s)))
        .flatten();
    let subject = if members.len() == 1 {
        first.subject.clone()
    } else {
        group_subject(host, kind, members)
    };
    let texts = || -> Vec<&str> { members.iter().map(|m| m.body.as_str()).collect() };
    let body = match first.channel {
        Channel::Email if members.len() == 1 => first.body.clone(),
        Channel::Email => mail_body(host, kind, members),
        Channel::Webhook => merged(texts()),
        Channel::JsonWebhook => {
            let items: Vec<serde_json::Value> = members
                .iter()
                .filter_map(|m| serde_json::from_str(&m.body).ok())
                .collect();
            let text: Vec<String> = items
                .iter()
                .filter_map(|i| i["text"].as_str().map(str::to_string))
                .collect();
            json::body(
                &first.idempotency_key,
                kind.as_str(),
                host,
                &subject,
                &text.join("\n\n"),
                items,
            )
        }
        Channel::Ntfy => texts().join("\n\n"),
        Channel::Slack | Channel::Matrix => format!("{subject}\n\n{}", texts().join("\n\n")),
    };
    let mut references: Vec<String> = members
        .iter()
        .filter_map(|m| m.in_reply_to.clone())
        .collect();
    references.dedup();
    Some(Outbound {
        channel: first.channel,
        recipient: first.recipient.clone(),
        key: first.idempotency_key.clone(),
        subject,
        body,
        in_reply_to: first.in_reply_to.clone(),
        references,
        severity,
        link: Some(link_of(first.incident)),
    })
}

/// A message that no notification stands behind (the state cannot be written, a unit failed):
/// `subject` and `body` as a person reads them, shaped for `channel`; `alerts` is the webhook's
/// list of alerts.
pub fn direct(
    channel: Channel,
    recipient: &str,
    key: &str,
    host: &str,
    kind: &str,
    (subject, body): (&str, &str),
    alerts: &str,
) -> Outbound {
    let body = match channel {
        Channel::Email | Channel::Ntfy => body.to_string(),
        Channel::Webhook => alerts.to_string(),
        Channel::JsonWebhook => json::body(key, kind, host, subject, body, Vec::new()),
        Channel::Slack | Channel::Matrix => format!("{subject}\n\n{body}"),
    };
    Outbound {
        channel,
        recipient: recipient.to_string(),
        key: key.to_string(),
        subject: subject.to_string(),
        body,
        in_reply_to: None,
        references: Vec::new(),
        severity: Some(Severity::Critical),
        link: None,
    }
}

/// Critical first, then unknown (a check that cannot tell), then warning.
fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 3,
        Severity::Unknown => 2,
        Severity::Warning => 1,
    }
}

/// The checks of a group by name, at most five, then how many more.
fn names(members: &[Notification]) -> String {
    let mut names: Vec<&str> = members.iter().map(|m| m.check.as_str()).collect();
    names.dedup();
    let shown = names.len().min(5);
    let mut text = names[..shown].join(", ");
    if names.len() > shown {
        let _ = write!(text, " and {} more", names.len() - shown);
    }
    text
}

fn group_subject(host: &str, kind: NotificationKind, members: &[Notification]) -> String {
    let count = members.len();
    let checks = names(members);
    match kind {
        NotificationKind::AllClear => format!("[orchestrator] resolved on {host}: {checks}"),
        NotificationKind::Repeat | NotificationKind::Refresh => {
            format!("[orchestrator] still unresolved on {host}: {count} incidents: {checks}")
        }
        NotificationKind::Escalation => {
            format!("[orchestrator] {count} incidents on {host} need a person: {checks}")
        }
    }
}

/// Every member's own mail, one after the other under a line naming it.
fn mail_body(host: &str, kind: NotificationKind, members: &[Notification]) -> String {
    let mut body = match kind {
        NotificationKind::AllClear => {
            format!("All clear for {} incidents on {host}.\n\n", members.len())
        }
        _ => format!(
            "orchestrator on {host} could not fix {} incidents and needs a person; each one \
             follows.\n\n",
            members.len()
        ),
    };
    for member in members {
        let _ = writeln!(body, "==== {}\n", member.subject);
        let _ = writeln!(body, "{}", member.body.trim_end());
        body.push('\n');
    }
    clipped(&body, 200_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NotificationStatus;

    fn member(
        id: i64,
        check: &str,
        severity: Severity,
        channel: Channel,
        body: &str,
    ) -> Notification {
        Notification {
            id,
            escalation: id,
            incident: id,
            check: check.into(),
            severity,
            channel,
            recipient: "ops@example.com".into(),
            kind: NotificationKind::Escalation,
            subject: format!("[orchestrator] critical on web-01: {check} needs a person"),
            body: body.into(),
            status: NotificationStatus::Pending,
            tries: 0,
            last_error: None,
            next_try_at: None,
            sent_at: None,
            created_at: 0.0,
            idempotency_key: "<orchestrator.1.ab@web-01>".into(),
            in_reply_to: None,
            batch: Some("b".into()),
        }
    }

    #[test]
    fn a_batch_of_one_goes_out_as_composed() {
        let one = [member(
            1,
            "web",
            Severity::Warning,
            Channel::Email,
            "the story",
        )];
        let message = outbound("web-01", &one, &|i| format!("/incidents/{i}")).unwrap();
        assert_eq!(message.subject, one[0].subject);
        assert_eq!(message.body, "the story");
        assert_eq!(message.severity, Some(Severity::Warning));
        assert_eq!(message.link.as_deref(), Some("/incidents/1"));
    }

    #[test]
    fn three_incidents_make_one_mail_naming_each_with_the_worst_severity() {
        let three = [
            member(1, "web", Severity::Warning, Channel::Email, "web story"),
            member(2, "db", Severity::Critical, Channel::Email, "db story"),
            member(
                3,
                "backup",
                Severity::Unknown,
                Channel::Email,
                "backup story",
            ),
        ];
        let message = outbound("web-01", &three, &|i| i.to_string()).unwrap();
        assert_eq!(
            message.subject,
            "[orchestrator] 3 incidents on web-01 need a person: web, db, backup"
        );
        for story in ["web story", "db story", "backup story"] {
            assert!(message.body.contains(story), "{}", message.body);
        }
        assert_eq!(message.severity, Some(Severity::Critical));
        assert_eq!(message.key, "<orchestrator.1.ab@web-01>");
    }

    #[test]
    fn a_json_group_is_one_body_listing_every_incident() {
        let item =
            |id: i64| serde_json::json!({"id": id, "text": format!("text {id}")}).to_string();
        let two = [
            member(1, "web", Severity::Critical, Channel::JsonWebhook, &item(1)),
            member(2, "db", Severity::Critical, Channel::JsonWebhook, &item(2)),
        ];
        let message = outbound("web-01", &two, &|i| i.to_string()).unwrap();
        let body: serde_json::Value = serde_json::from_str(&message.body).unwrap();
        assert_eq!(body["version"], 1);
        assert_eq!(body["kind"], "escalation");
        assert_eq!(body["key"], "<orchestrator.1.ab@web-01>");
        assert_eq!(body["incidents"].as_array().unwrap().len(), 2);
        assert_eq!(body["text"], "text 1\n\ntext 2");
    }

    #[test]
    fn a_long_list_of_checks_is_cut_in_the_subject() {
        let many: Vec<Notification> = (1..=8)
            .map(|i| member(i, &format!("c{i}"), Severity::Critical, Channel::Slack, "x"))
            .collect();
        let message = outbound("h", &many, &|i| i.to_string()).unwrap();
        assert!(
            message.subject.ends_with("c1, c2, c3, c4, c5 and 3 more"),
            "{}",
            message.subject
        );
        assert!(message.body.starts_with(&message.subject));
    }
}
