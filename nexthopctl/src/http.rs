//! A small blocking HTTP/1.1 client: one request per connection (`Connection:
//! close`) over the Unix socket or TCP; the body read as it arrives, chunked
//! or not, so a streamed dump is printed without being held in memory.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// Where the API is.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A Unix socket.
    Unix(PathBuf),
    /// `host:port` over TCP.
    Tcp(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "http://{a}"),
        }
    }
}

/// A response: its status and its body, readable as it arrives.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Box<dyn BufRead>,
}

/// Sends `method target` with `body` (JSON) and reads the response head.
pub fn request(
    to: &Endpoint,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Result<Response, String> {
    let stream: Box<dyn ReadWrite> = match to {
        Endpoint::Unix(p) => Box::new(
            UnixStream::connect(p)
                .map_err(|e| format!("cannot connect to {}: {e}", p.display()))?,
        ),
        Endpoint::Tcp(a) => Box::new(
            std::net::TcpStream::connect(a).map_err(|e| format!("cannot connect to {a}: {e}"))?,
        ),
    };
    let mut stream = stream;
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: nexthopctl/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("sending to {to}: {e}"))?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| format!("reading from {to}: {e}"))?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("{to} did not answer HTTP: {:?}", line.trim_end()))?;
    let mut chunked = false;
    let mut length: Option<u64> = None;
    loop {
        line.clear();
        r.read_line(&mut line)
            .map_err(|e| format!("reading from {to}: {e}"))?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse().ok();
            }
        }
    }
    let body: Box<dyn BufRead> = if chunked {
        Box::new(BufReader::new(Chunked {
            inner: r,
            left: 0,
            done: false,
        }))
    } else if let Some(n) = length {
        Box::new(BufReader::new(r.take(n)))
    } else {
        Box::new(r)
    };
    Ok(Response { status, body })
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Decodes `Transfer-Encoding: chunked` as it is read.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.inner.read_line(&mut line)?;
            if line.trim().is_empty() {
                // The CRLF after the previous chunk.
                line.clear();
                self.inner.read_line(&mut line)?;
            }
            let size = line.trim().split(';').next().unwrap_or("");
            if size.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the response ended early (the daemon cut it off)",
                ));
            }
            self.left = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the response ended early (the daemon cut it off)",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_anywhere_decode() {
        let raw = b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
        let mut c = Chunked {
            inner: BufReader::with_capacity(3, &raw[..]),
            left: 0,
            done: false,
        };
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");
        let cut = b"5\r\nhel";
        let mut c = Chunked {
            inner: BufReader::new(&cut[..]),
            left: 0,
            done: false,
        };
        let mut s = String::new();
        assert!(c.read_to_string(&mut s).is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("2001:db8::/32"), "2001%3Adb8%3A%3A%2F32");
        assert_eq!(encode("10.0.0.0/8"), "10.0.0.0%2F8");
    }
}
