//! `[control]`: the control API's Unix socket, its optional TCP listener, and
//! whether actions are served over TCP.

use serde::Deserialize;
use toml::Spanned;

use super::Source;
use crate::config::{CONTROL_SOCKET_MAX, ConfigError, Control};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawControl {
    #[serde(default)]
    socket: Option<Spanned<String>>,
    #[serde(default)]
    listen: Option<Spanned<String>>,
    #[serde(default)]
    allow_write_over_tcp: Option<Spanned<bool>>,
}

pub(super) fn control(src: &Source<'_>, c: &RawControl) -> Result<Control, ConfigError> {
    let mut out = Control::default();
    if let Some(v) = &c.socket {
        let path = v.get_ref();
        if path.is_empty() {
            return Err(src.err("control.socket", v, "the socket path is empty"));
        }
        if path.contains('\0') {
            return Err(src.err("control.socket", v, "the socket path contains a NUL byte"));
        }
        if path.len() > CONTROL_SOCKET_MAX {
            return Err(src.err(
                "control.socket",
                v,
                format!(
                    "the socket path is {} bytes; a Unix socket path is at most {CONTROL_SOCKET_MAX}",
                    path.len()
                ),
            ));
        }
        out.socket = path.into();
    }
    if let Some(v) = &c.listen {
        let addr: std::net::SocketAddr = v.get_ref().parse().map_err(|_| {
            src.err(
                "control.listen",
                v,
                format!(
                    "{:?} is not ADDRESS:PORT (such as \"127.0.0.1:9179\" or \"[::1]:9179\")",
                    v.get_ref()
                ),
            )
        })?;
        if addr.port() == 0 {
            return Err(src.err("control.listen", v, "port 0: give the port to listen on"));
        }
        out.listen = Some(addr);
    }
    if let Some(v) = &c.allow_write_over_tcp {
        if *v.get_ref() && out.listen.is_none() {
            return Err(src.err(
                "control.allow_write_over_tcp",
                v,
                "true without control.listen: there is no TCP listener to allow writes on",
            ));
        }
        out.allow_write_over_tcp = *v.get_ref();
    }
    Ok(out)
}
