//! What an operator reads of one neighbour: messages and bytes by type in each
//! direction (RFC 4271 §4.1 header types, RFC 2918 ROUTE-REFRESH), NOTIFICATIONs
//! by direction, code and subcode (RFC 4271 §4.5), Established transitions and
//! flaps, and the last error in words (with the RFC 9003 shutdown communication
//! of a received Cease 6/2 or 6/4). Counting is plain integer adds; a
//! NOTIFICATION, rare, may allocate.

use nexthop_control::{LastError, MessageCounts, NotificationCount};
use nexthop_core::session::{ConnectionError, DownReason};
use nexthop_core::wire::NotificationCode;
use nexthop_core::wire::codes::ErrorCode;

use crate::Instant;

/// RFC 4271 §4.1: marker (16), length (2), type (1).
const HEADER_LEN: usize = 19;

/// The per-neighbour counters and history.
#[derive(Clone, Debug, Default)]
pub(crate) struct NeighborStats {
    pub received: MessageCounts,
    pub sent: MessageCounts,
    /// (sent, code, subcode, count); a handful of entries at most.
    pub notifications: Vec<(bool, u8, u8, u64)>,
    /// Times it reached Established.
    pub established_total: u64,
    /// Times it left Established.
    pub flaps: u64,
    /// When it last entered Established.
    pub up_since: Option<Instant>,
    /// When it last left Established.
    pub down_since: Option<Instant>,
    /// Why it last went down.
    pub last_error: Option<ErrorRecord>,
    /// The shutdown communication of the last NOTIFICATION received, kept
    /// until the session's Down event names it.
    received_communication: Option<String>,
    /// The NOTIFICATION we last queued (code, subcode, shutdown
    /// communication), for the last error of a stop that sent one.
    sent_notification: Option<(u8, u8, Option<String>)>,
}

/// The last error, kept until asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ErrorRecord {
    pub kind: &'static str,
    pub code: Option<u8>,
    pub subcode: Option<u8>,
    pub text: String,
    pub at: Instant,
}

impl ErrorRecord {
    pub(crate) fn to_api(&self, now: Instant) -> LastError {
        LastError {
            kind: self.kind.to_string(),
            code: self.code,
            subcode: self.subcode,
            text: self.text.clone(),
            age_s: (now - self.at).total_secs(),
        }
    }
}

fn count(c: &mut MessageCounts, message_type: u8, len: usize) {
    let len = len as u64;
    let (n, b) = match message_type {
        1 => (&mut c.open, &mut c.open_bytes),
        2 => (&mut c.update, &mut c.update_bytes),
        3 => (&mut c.notification, &mut c.notification_bytes),
        4 => (&mut c.keepalive, &mut c.keepalive_bytes),
        5 => (&mut c.route_refresh, &mut c.route_refresh_bytes),
        _ => {
            c.bytes += len;
            return;
        }
    };
    *n += 1;
    *b += len;
    c.bytes += len;
}

/// `Cease / Administrative Shutdown`, or `Cease / subcode 42`.
pub(crate) fn notification_name(code: u8, subcode: u8) -> String {
    let n = NotificationCode::from_wire(code, subcode);
    let c = match n.code {
        ErrorCode::Unknown(v) => format!("error code {v}"),
        other => other.name().to_string(),
    };
    match n.subcode_name() {
        Some(s) => format!("{c} / {s}"),
        None if subcode == 0 => c,
        None => format!("{c} / subcode {subcode}"),
    }
}

/// RFC 9003 §2: the shutdown communication in the data of a Cease 6/2 or 6/4:
/// a length octet and that many octets of UTF-8 (lossy: a peer's bad UTF-8 is
/// shown, not refused).
fn shutdown_communication(data: &[u8]) -> Option<String> {
    let (&len, rest) = data.split_first()?;
    let text = rest.get(..usize::from(len))?;
    (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned())
}

impl NeighborStats {
    /// Counts the whole messages in `bytes` (what `Session::handle_read`
    /// consumed), reading their headers; a received NOTIFICATION is counted by
    /// code and subcode and its shutdown communication kept.
    pub(crate) fn count_received(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= HEADER_LEN {
            let len = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
            let message_type = bytes[18];
            if len < HEADER_LEN || len > bytes.len() {
                // The session refused it; it was counted as far as it went.
                return;
            }
            count(&mut self.received, message_type, len);
            if message_type == 3 && len >= HEADER_LEN + 2 {
                let (code, subcode) = (bytes[19], bytes[20]);
                self.count_notification(false, code, subcode);
                self.received_communication = if code == 6 && matches!(subcode, 2 | 4) {
                    shutdown_communication(&bytes[21..len])
                } else {
                    None
                };
            }
            bytes = &bytes[len..];
        }
    }

    /// Counts a message we sent (owned by the session): `message` is whole.
    pub(crate) fn count_sent(&mut self, message: &[u8]) {
        if message.len() < HEADER_LEN {
            return;
        }
        count(&mut self.sent, message[18], message.len());
        if message[18] == 3 && message.len() >= HEADER_LEN + 2 {
            let (code, subcode) = (message[19], message[20]);
            self.count_notification(true, code, subcode);
            let communication = if code == 6 && matches!(subcode, 2 | 4) {
                shutdown_communication(&message[21..])
            } else {
                None
            };
            self.sent_notification = Some((code, subcode, communication));
        }
    }

    /// Counts router output: one or more UPDATEs back to back.
    pub(crate) fn count_sent_updates(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= HEADER_LEN {
            let len = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
            if len < HEADER_LEN || len > bytes.len() {
                return;
            }
            count(&mut self.sent, bytes[18], len);
            bytes = &bytes[len..];
        }
    }

    fn count_notification(&mut self, sent: bool, code: u8, subcode: u8) {
        match self
            .notifications
            .iter_mut()
            .find(|n| (n.0, n.1, n.2) == (sent, code, subcode))
        {
            Some(n) => n.3 += 1,
            None => self.notifications.push((sent, code, subcode, 1)),
        }
    }

    /// The NOTIFICATIONs as the API shows them, sent first.
    pub(crate) fn notification_counts(&self) -> Vec<NotificationCount> {
        let mut v: Vec<_> = self
            .notifications
            .iter()
            .map(|&(sent, code, subcode, count)| NotificationCount {
                direction: if sent { "sent" } else { "received" }.to_string(),
                code,
                subcode,
                name: notification_name(code, subcode),
                count,
            })
            .collect();
        v.sort_by(|a, b| (&b.direction, a.code, a.subcode).cmp(&(&a.direction, b.code, b.subcode)));
        v
    }

    pub(crate) fn established(&mut self, now: Instant) {
        self.sent_notification = None;
        self.established_total += 1;
        self.up_since = Some(now);
    }

    /// The session lost its connection: a flap when it was Established.
    pub(crate) fn down(&mut self, now: Instant, reason: DownReason, was_established: bool) {
        if was_established {
            self.flaps += 1;
            self.up_since = None;
            self.down_since = Some(now);
        }
        let communication = self.received_communication.take();
        let sent = self.sent_notification.take();
        let mut record = error_record(now, reason, communication);
        // An operator's stop (or the config's) that sent a Cease: name it, and
        // the communication sent with it (RFC 9003).
        if reason == DownReason::ManualStop
            && let Some((code, subcode, c)) = sent
        {
            record.kind = "notification_sent";
            record.code = Some(code);
            record.subcode = Some(subcode);
            let name = notification_name(code, subcode);
            record.text = match c {
                Some(c) => {
                    format!("sent {name}: {c:?} (stopped by the operator or the configuration)")
                }
                None => format!("sent {name} (stopped by the operator or the configuration)"),
            };
        }
        self.last_error = Some(record);
    }
}

/// `reason` in words.
pub(crate) fn error_record(
    now: Instant,
    reason: DownReason,
    communication: Option<String>,
) -> ErrorRecord {
    let notification = |kind, n: NotificationCode, text: String| ErrorRecord {
        kind,
        code: Some(u8::from(n.code)),
        subcode: Some(n.subcode),
        text,
        at: now,
    };
    let name = |n: NotificationCode| notification_name(u8::from(n.code), n.subcode);
    match reason {
        DownReason::Connection(e) => ErrorRecord {
            kind: "connection",
            code: None,
            subcode: None,
            text: match e {
                ConnectionError::PeerClosed => "connection closed by peer",
                ConnectionError::Reset => "connection reset by peer",
                ConnectionError::SendFailed => "send failed",
                ConnectionError::ConnectFailed => "connect failed",
            }
            .to_string(),
            at: now,
        },
        DownReason::NotificationReceived(n) => {
            let text = match communication {
                Some(c) => format!("received {}: {c:?}", name(n)),
                None => format!("received {}", name(n)),
            };
            notification("notification_received", n, text)
        }
        DownReason::NotificationSent(n) => {
            notification("notification_sent", n, format!("sent {}", name(n)))
        }
        DownReason::HoldTimerExpired => notification(
            "hold_timer_expired",
            NotificationCode::HOLD_TIMER_EXPIRED,
            "hold timer expired (sent Hold Timer Expired)".to_string(),
        ),
        DownReason::AutomaticStop(n) => notification(
            "automatic_stop",
            n,
            format!("automatic stop: sent {}", name(n)),
        ),
        DownReason::ManualStop => ErrorRecord {
            kind: "manual_stop",
            code: None,
            subcode: None,
            text: "stopped by the operator or the configuration".to_string(),
            at: now,
        },
        DownReason::UnexpectedMessage => ErrorRecord {
            kind: "unexpected_message",
            code: None,
            subcode: None,
            text:
                "unexpected message before our OPEN was sent (RFC 4271 §8.2.2): connection dropped"
                    .to_string(),
            at: now,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(message_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((HEADER_LEN + body.len()) as u16).to_be_bytes());
        m.push(message_type);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn received_messages_are_counted_by_header_type_and_bytes() {
        let mut s = NeighborStats::default();
        let mut bytes = message(4, &[]);
        bytes.extend(message(2, &[0, 0, 0, 0]));
        bytes.extend(message(4, &[]));
        s.count_received(&bytes);
        assert_eq!(s.received.keepalive, 2);
        assert_eq!(s.received.update, 1);
        assert_eq!(s.received.bytes, bytes.len() as u64);
        // By type too: a KEEPALIVE is its 19-byte header.
        assert_eq!(s.received.keepalive_bytes, 2 * 19);
        assert_eq!(s.received.update_bytes, 19 + 4);
        assert_eq!(s.received.open_bytes, 0);
    }

    #[test]
    fn a_received_cease_6_2_keeps_its_rfc_9003_communication_for_the_last_error() {
        let mut s = NeighborStats::default();
        s.established(Instant::from_secs(1));
        let mut body = vec![6, 2, 11];
        body.extend_from_slice(b"maintenance");
        s.count_received(&message(3, &body));
        s.down(
            Instant::from_secs(5),
            DownReason::NotificationReceived(NotificationCode::from_wire(6, 2)),
            true,
        );
        let e = s.last_error.as_ref().unwrap().to_api(Instant::from_secs(7));
        assert_eq!(e.kind, "notification_received");
        assert_eq!((e.code, e.subcode), (Some(6), Some(2)));
        assert_eq!(
            e.text,
            "received Cease / Administrative Shutdown: \"maintenance\""
        );
        assert_eq!(e.age_s, 2);
        assert_eq!(s.flaps, 1);
        let n = s.notification_counts();
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].direction.as_str(), n[0].code, n[0].subcode, n[0].count),
            ("received", 6, 2, 1)
        );
    }

    #[test]
    fn a_truncated_communication_or_message_is_not_read_past_its_end() {
        let mut s = NeighborStats::default();
        // Claims 200 octets of text, has 3.
        s.count_received(&message(3, &[6, 2, 200, b'a', b'b', b'c']));
        assert_eq!(s.received_communication, None);
        // A header whose length runs past the bytes: not counted.
        let mut m = message(2, &[0, 0, 0, 0]);
        m.truncate(20);
        s.count_received(&m);
        assert_eq!(s.received.update, 0);
    }

    #[test]
    fn names_follow_the_rfcs() {
        assert_eq!(notification_name(6, 4), "Cease / Administrative Reset");
        assert_eq!(notification_name(4, 0), "Hold Timer Expired");
        assert_eq!(notification_name(6, 99), "Cease / subcode 99");
        assert_eq!(notification_name(42, 1), "error code 42 / subcode 1");
    }
}
