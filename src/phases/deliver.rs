//! Sending what phase 4 queued: after the cycle lock is released, under the delivery lock
//! (`DB.deliver.lock`), so a slow server never holds up the healing phases.
//!
//! Each configured channel is delivered by a thread of its own, with its own deadline per
//! message and its own budget per run (`message_timeout`, `delivery_budget`, in `[escalation]`
//! or the channel's table): a mail server that hangs spends the mail channel's budget and
//! nothing else, and the webhook goes out at once. The webhook's thread first re-posts every
//! open escalation's firing alert, in one POST, before anything else it sends.
//!
//! The threads only talk to servers. Every write to the database happens on the calling
//! thread, when a channel's thread asks for its next message: its notifications are marked
//! `sending` before the thread gets it, and sent, retry or failed when it reports back. A crash
//! in between leaves them `sending`, resent by the next run under the same idempotency key.

use crate::clock::now;
use crate::config::{Config, EscalationConfig};
use crate::journald::CHANGE;
use crate::model::{Channel, NotificationKind};
use crate::notify::incident_link;
use crate::notify::{self, NotifyError, Outbound};
use crate::store::{Notification, Store};
use serde::Serialize;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Delivery {
    pub notification: i64,
    pub incident: i64,
    pub channel: Channel,
    pub recipient: String,
    pub kind: NotificationKind,
    /// sent | retry | failed
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The longest wait between two tries of one notification.
const MAX_BACKOFF_SECS: f64 = 3600.0;

/// How long past the longest budget the calling thread waits for a channel's thread before it
/// stops listening: every send is bounded by its own deadline, so this is only a backstop.
const GRACE: Duration = Duration::from_secs(5);

/// Sends what is due on every channel at once, each within its own budget, and re-posts the
/// firing alerts first; the caller holds the delivery lock, so two deliverers never send the
/// same row at once.
pub fn deliver(config: &Config, store: &mut Store) -> anyhow::Result<Vec<Delivery>> {
    let at = now();
    let link = |incident: i64| incident_link(config, incident);
    let mut deliveries = Vec::new();
    let configured = config
        .escalation
        .as_ref()
        .map(EscalationConfig::channels)
        .unwrap_or_default();
    for channel in store.channels_due(at)? {
        if !configured.contains(&channel) {
            fail_unconfigured(store, channel, at, &mut deliveries, &link)?;
        }
    }
    let Some(settings) = config.escalation.clone() else {
        return Ok(deliveries);
    };
    let mut refresh = firing_alerts(store)?;
    let settings = Arc::new(settings);
    let (asks, inbox) = mpsc::channel();
    let mut longest = Duration::ZERO;
    // A thread for every channel, even one with nothing due yet: what another process queues
    // meanwhile is sent by this run, since a second deliverer skips.
    for channel in configured {
        let refresh = match channel {
            Channel::Webhook => refresh.take(),
            _ => None,
        };
        let limits = Limits::of(&settings, channel);
        longest = longest.max(limits.budget);
        let worker = Worker {
            channel,
            settings: Arc::clone(&settings),
            limits,
            asks: asks.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("deliver-{channel}"))
            .spawn(move || worker.run(refresh));
        if let Err(e) = spawned {
            log::warn!("cannot start the {channel} channel's delivery thread: {e}; it waits for the next run");
        }
    }
    // Once every thread has ended, the inbox reports them gone.
    drop(asks);
    let mut server = Server {
        store,
        host: config.host_name(),
        at,
        cursors: Vec::new(),
        deliveries,
        link: &link,
        retry: settings.retry.as_secs_f64(),
    };
    server.answer(&inbox, give_up_after(longest))?;
    Ok(server.deliveries)
}

/// What a channel's thread says to the calling thread.
enum Ask {
    /// The next message, marked `sending`; None: nothing more is due.
    Next {
        channel: Channel,
        reply: mpsc::Sender<Option<Job>>,
    },
    Done {
        job: Job,
        outcome: Result<(), NotifyError>,
    },
    /// The channel's budget is spent; what is left waits for the next run.
    Spent { channel: Channel, budget: Duration },
    Refreshed {
        alerts: Vec<Notification>,
        outcome: Result<(), NotifyError>,
    },
}

/// One message and the notifications it carries.
struct Job {
    members: Vec<Notification>,
    message: Outbound,
}

/// One channel's thread: asks for a message while its budget lasts, sends it, reports.
struct Worker {
    channel: Channel,
    settings: Arc<EscalationConfig>,
    limits: Limits,
    asks: mpsc::Sender<Ask>,
}

impl Worker {
    fn run(self, refresh: Option<(Outbound, Vec<Notification>)>) {
        if let Some((message, alerts)) = refresh {
            let Some(deadline) = self.limits.next_deadline() else {
                return;
            };
            let outcome = notify::send(&self.settings, &message, deadline);
            if self.asks.send(Ask::Refreshed { alerts, outcome }).is_err() {
                return;
            }
        }
        loop {
            let Some(deadline) = self.limits.next_deadline() else {
                let _ = self.asks.send(Ask::Spent {
                    channel: self.channel,
                    budget: self.limits.budget,
                });
                return;
            };
            let (reply, answer) = mpsc::channel();
            let asked = Ask::Next {
                channel: self.channel,
                reply,
            };
            if self.asks.send(asked).is_err() {
                return;
            }
            // None, or the calling thread is gone (it stopped listening or failed).
            let Ok(Some(job)) = answer.recv() else {
                return;
            };
            // Marking took a moment of the budget: the deadline is cut to what is left.
            let deadline = self
                .limits
                .next_deadline()
                .map_or(deadline, |d| d.min(deadline));
            let outcome = notify::send(&self.settings, &job.message, deadline);
            if self.asks.send(Ask::Done { job, outcome }).is_err() {
                return;
            }
        }
    }
}

/// The calling thread's side: the only one that reads and writes the database.
struct Server<'a> {
    store: &'a mut Store,
    host: String,
    /// Due as of the start of the run: a notification put off to a later try is not taken
    /// again in this run.
    at: f64,
    /// Per channel, the last notification handed out.
    cursors: Vec<(Channel, i64)>,
    deliveries: Vec<Delivery>,
    link: &'a dyn Fn(i64) -> String,
    /// `[escalation] retry`, in seconds: the first wait after a transient failure.
    retry: f64,
}

impl Server<'_> {
    fn answer(
        &mut self,
        inbox: &mpsc::Receiver<Ask>,
        give_up: Option<Instant>,
    ) -> anyhow::Result<()> {
        loop {
            let wait = left_until(give_up);
            let ask = match inbox.recv_timeout(wait) {
                Ok(ask) => ask,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // A thread still talking past every deadline ends with the process; what
                    // it was sending stays `sending` and is resent under the same key.
                    log::warn!(
                        "a delivery thread did not finish within its budget; not waiting for it"
                    );
                    return Ok(());
                }
            };
            match ask {
                Ask::Next { channel, reply } => {
                    let job = self.next_job(channel)?;
                    // A thread that is gone sends nothing: its rows stay `sending` and are
                    // resent by the next run, as after a crash.
                    let _ = reply.send(job);
                }
                Ask::Done { job, outcome } => self.record(&job.members, outcome)?,
                Ask::Spent { channel, budget } => self.report_spent(channel, budget)?,
                Ask::Refreshed { alerts, outcome } => self.record_refresh(alerts, outcome),
            }
        }
    }

    fn cursor(&mut self, channel: Channel) -> &mut i64 {
        let at = match self.cursors.iter().position(|(c, _)| *c == channel) {
            Some(at) => at,
            None => {
                self.cursors.push((channel, 0));
                self.cursors.len() - 1
            }
        };
        &mut self.cursors[at].1
    }

    /// The next due message of `channel`, its notifications marked `sending`. Notifications of
    /// a silenced check wait: taken out of their batch, they go out once the silence ends.
    fn next_job(&mut self, channel: Channel) -> anyhow::Result<Option<Job>> {
        loop {
            let after = *self.cursor(channel);
            let Some(first) = self.store.next_due_on(channel, self.at, after)? else {
                return Ok(None);
            };
            let members = self.store.batch_of(&first)?;
            let last = members.iter().map(|m| m.id).max().unwrap_or(first.id);
            *self.cursor(channel) = last.max(first.id);
            let (held, members) = self.held_by_silences(members)?;
            if !held.is_empty() && !members.is_empty() {
                self.split_off(channel, &held)?;
            }
            let link = self.link;
            let Some(message) = notify::outbound(&self.host, &members, link) else {
                continue;
            };
            let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
            self.store.mark_notifications_sending(&ids)?;
            return Ok(Some(Job { members, message }));
        }
    }

    /// (held, to send): a notification queued before its check was silenced waits; one left
    /// `sending` by a crash was on its way already and goes out as it was.
    fn held_by_silences(
        &self,
        members: Vec<Notification>,
    ) -> anyhow::Result<(Vec<Notification>, Vec<Notification>)> {
        let mut held = Vec::new();
        let mut send = Vec::new();
        for member in members {
            let waiting = member.status != crate::model::NotificationStatus::Sending
                && self.store.silence_of(&member.check)?.is_some();
            if waiting {
                held.push(member);
            } else {
                send.push(member);
            }
        }
        Ok((held, send))
    }

    /// The held notifications become a batch of their own, with a key of their own where a key
    /// names one message: the rest of their batch goes out now under the old one.
    fn split_off(&mut self, channel: Channel, held: &[Notification]) -> anyhow::Result<()> {
        let ids: Vec<i64> = held.iter().map(|m| m.id).collect();
        let batch = crate::random::random_hex(8);
        let key = channel.keyed_per_message().then(|| match channel {
            Channel::Email => crate::notify::message_id(held[0].incident, &self.host),
            _ => crate::notify::message_key(held[0].incident),
        });
        self.store.split_batch(&ids, &batch, key.as_deref())?;
        Ok(())
    }

    fn record(
        &mut self,
        members: &[Notification],
        outcome: Result<(), NotifyError>,
    ) -> anyhow::Result<()> {
        let Some(first) = members.first() else {
            return Ok(());
        };
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let link = (self.link)(first.incident);
        let (result, error) = match masked(self.store, outcome) {
            Ok(()) => {
                self.store.mark_notifications_sent(&ids)?;
                ("sent", None)
            }
            Err(NotifyError::Transient(error)) => {
                // `tries` as read before this try: the first retry waits `retry`. The
                // notifications of one message are tried together, so the first stands for all.
                let wait =
                    (self.retry * 2f64.powi(first.tries.clamp(0, 30) as i32)).min(MAX_BACKOFF_SECS);
                self.store
                    .mark_notifications_retry(&ids, &error, now() + wait)?;
                log::warn!(
                    target: CHANGE,
                    "notification {} to {} not sent, retry in {wait:.0}s: {error} — {link}",
                    describe_ids(&ids),
                    first.recipient,
                );
                ("retry", Some(error))
            }
            Err(NotifyError::Permanent(error)) => {
                self.store.mark_notifications_failed(&ids, &error)?;
                log::error!(
                    target: CHANGE,
                    "notification {} to {} failed for good: {error} — {link}",
                    describe_ids(&ids),
                    first.recipient,
                );
                ("failed", Some(error))
            }
        };
        for member in members {
            self.delivered(member, member.kind, result, error.clone());
        }
        Ok(())
    }

    /// One line of the run's report per notification a message carried.
    fn delivered(
        &mut self,
        notification: &Notification,
        kind: NotificationKind,
        result: &'static str,
        error: Option<String>,
    ) {
        self.deliveries.push(Delivery {
            notification: notification.id,
            incident: notification.incident,
            channel: notification.channel,
            recipient: notification.recipient.clone(),
            kind,
            result,
            error,
        });
    }

    fn report_spent(&self, channel: Channel, budget: Duration) -> anyhow::Result<()> {
        let after = self
            .cursors
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(0, |(_, id)| *id);
        if let Some(next) = self.store.next_due_on(channel, self.at, after)? {
            log::warn!(
                "the {channel} channel's delivery budget ({}) is spent; notification {} and \
                 later ones wait for the next run",
                humantime::format_duration(budget),
                next.id
            );
        }
        Ok(())
    }

    /// A re-post that failed is only logged: the next run posts again.
    fn record_refresh(&mut self, alerts: Vec<Notification>, outcome: Result<(), NotifyError>) {
        let error = masked(self.store, outcome).err().map(|e| e.to_string());
        if let Some(error) = &error {
            log::warn!("re-posting {} firing alert(s): {error}", alerts.len());
        }
        let result = if error.is_none() { "sent" } else { "retry" };
        for alert in &alerts {
            self.delivered(alert, NotificationKind::Refresh, result, error.clone());
        }
    }
}

fn describe_ids(ids: &[i64]) -> String {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    ids.join("+")
}

/// Every open escalation's firing alert, as one message: Alertmanager forgets an alert that is
/// not posted again in time. None when there is none.
fn firing_alerts(store: &Store) -> anyhow::Result<Option<(Outbound, Vec<Notification>)>> {
    let alerts = store.alerts_to_refresh()?;
    let Some(first) = alerts.first() else {
        return Ok(None);
    };
    let message = Outbound {
        channel: Channel::Webhook,
        recipient: first.recipient.clone(),
        key: String::new(),
        subject: String::new(),
        body: notify::merged(alerts.iter().map(|a| a.body.as_str())),
        in_reply_to: None,
        references: Vec::new(),
        severity: None,
        link: None,
    };
    Ok(Some((message, alerts)))
}

/// The notifications of a channel the config no longer has: nothing could send them.
fn fail_unconfigured(
    store: &mut Store,
    channel: Channel,
    at: f64,
    deliveries: &mut Vec<Delivery>,
    link: &dyn Fn(i64) -> String,
) -> anyhow::Result<()> {
    let error = format!("the {channel} channel is no longer configured");
    let mut after = 0;
    while let Some(notification) = store.next_due_on(channel, at, after)? {
        after = notification.id;
        store.mark_notifications_failed(&[notification.id], &error)?;
        log::error!(
            target: CHANGE,
            "notification {} to {} failed for good: {error} — {}",
            notification.id,
            notification.recipient,
            link(notification.incident)
        );
        deliveries.push(Delivery {
            notification: notification.id,
            incident: notification.incident,
            channel,
            recipient: notification.recipient,
            kind: notification.kind,
            result: "failed",
            error: Some(error.clone()),
        });
    }
    Ok(())
}

/// An error may quote a webhook's URL and its credentials: logged and stored masked.
fn masked(store: &Store, outcome: Result<(), NotifyError>) -> Result<(), NotifyError> {
    outcome.map_err(|error| match error {
        NotifyError::Transient(e) => NotifyError::Transient(store.mask(&e)),
        NotifyError::Permanent(e) => NotifyError::Permanent(store.mask(&e)),
    })
}

/// When the calling thread stops waiting for the channels' threads: `longest` budget and
/// [`GRACE`] from now; None when that is past what a clock can hold (a budget of centuries).
fn give_up_after(longest: Duration) -> Option<Instant> {
    Instant::now().checked_add(longest.saturating_add(GRACE))
}

/// What is left until `give_up`; without one, as long as a wait can be (`recv_timeout` then
/// waits for the threads, each bounded by its own deadlines).
fn left_until(give_up: Option<Instant>) -> Duration {
    give_up.map_or(Duration::MAX, |at| {
        at.saturating_duration_since(Instant::now())
    })
}

/// One channel's budget for a run and its deadline per message.
pub(crate) struct Limits {
    started: Instant,
    budget: Duration,
    per_message: Duration,
}

impl Limits {
    pub(crate) fn of(config: &EscalationConfig, channel: Channel) -> Limits {
        let limits = config.limits(channel);
        Limits {
            started: Instant::now(),
            budget: limits.delivery_budget.std(),
            per_message: limits.message_timeout.std(),
        }
    }

    /// The deadline of the next message: the per-message one, cut to what is left of the
    /// budget; None when the budget is spent.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        let left = self.budget.checked_sub(self.started.elapsed())?;
        (!left.is_zero()).then(|| left.min(self.per_message))
    }
}

/// Sends messages that no notification stands behind (a direct message when the state cannot
/// be written): each channel's in a thread of its own, one after the other within the
/// channel's budget, all channels at once. Returns each message with what came of it; one its
/// channel's budget did not reach is a transient failure.
pub(crate) fn send_at_once(
    settings: &EscalationConfig,
    messages: Vec<Outbound>,
) -> Vec<(Outbound, Result<(), NotifyError>)> {
    let settings = Arc::new(settings.clone());
    let (results, inbox) = mpsc::channel();
    let mut by_channel: Vec<(Channel, Vec<Outbound>)> = Vec::new();
    for message in messages {
        match by_channel.iter_mut().find(|(c, _)| *c == message.channel) {
            Some((_, list)) => list.push(message),
            None => by_channel.push((message.channel, vec![message])),
        }
    }
    let mut longest = Duration::ZERO;
    let mut expected = 0;
    let mut outcomes = Vec::new();
    for (channel, list) in by_channel {
        let limits = Limits::of(&settings, channel);
        longest = longest.max(limits.budget);
        expected += list.len();
        let settings = Arc::clone(&settings);
        let results = results.clone();
        let unsent = list.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("direct-{channel}"))
            .spawn(move || {
                for message in list {
                    let outcome = match limits.next_deadline() {
                        Some(deadline) => notify::send(&settings, &message, deadline),
                        None => Err(NotifyError::Transient(format!(
                            "the {channel} channel's delivery budget was spent"
                        ))),
                    };
                    if results.send((message, outcome)).is_err() {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            expected -= unsent.len();
            for message in unsent {
                let error = format!("cannot start the sending thread: {e}");
                outcomes.push((message, Err(NotifyError::Transient(error))));
            }
        }
    }
    drop(results);
    let give_up = give_up_after(longest);
    while outcomes.len() < expected {
        let wait = left_until(give_up);
        match inbox.recv_timeout(wait) {
            Ok(outcome) => outcomes.push(outcome),
            Err(_) => break,
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_of_centuries_waits_without_a_deadline_and_never_panics() {
        assert_eq!(give_up_after(Duration::MAX), None);
        assert_eq!(left_until(None), Duration::MAX);
        let soon = give_up_after(Duration::from_secs(1));
        assert!(left_until(soon) <= Duration::from_secs(6));
        let limits = Limits {
            started: Instant::now(),
            budget: Duration::MAX,
            per_message: Duration::MAX,
        };
        assert!(limits.next_deadline().is_some());
    }

    #[test]
    fn the_deadline_is_the_smaller_of_message_and_what_is_left() {
        let limits = Limits {
            started: Instant::now(),
            budget: Duration::from_secs(60),
            per_message: Duration::from_secs(20),
        };
        assert_eq!(limits.next_deadline(), Some(Duration::from_secs(20)));
        let almost = Limits {
            started: Instant::now() - Duration::from_secs(55),
            ..limits
        };
        assert!(almost.next_deadline().unwrap() <= Duration::from_secs(5));
        let spent = Limits {
            started: Instant::now() - Duration::from_secs(61),
            ..almost
        };
        assert_eq!(spent.next_deadline(), None);
    }
}
