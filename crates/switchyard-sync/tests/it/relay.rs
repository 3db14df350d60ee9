//! A TCP relay on 127.0.0.1 in front of a real server, that a test switches between passing
//! bytes through, stalling (connections accepted, nothing forwarded), trickling (the server's
//! answer 80 bytes every 100 ms) and dropping (connections closed at once, open ones cut).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes of the server's answer forwarded every 100 ms while trickling (800 bytes/s).
pub const TRICKLE_BYTES: usize = 80;

/// What the relay does with bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forward everything.
    Pass = 0,
    /// Accept, forward nothing until the mode changes.
    Stall = 1,
    /// Forward the server's bytes [`TRICKLE_BYTES`] at a time, 100 ms apart.
    Trickle = 2,
    /// Close every connection.
    Drop = 3,
}

struct Shared {
    mode: AtomicU8,
    stop: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            0 => Mode::Pass,
            1 => Mode::Stall,
            2 => Mode::Trickle,
            _ => Mode::Drop,
        }
    }
}

/// The relay; stops accepting and cuts its connections on drop.
pub struct Relay {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Relay {
    /// A relay to `127.0.0.1:upstream`, passing bytes through.
    pub fn start(upstream: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(Mode::Pass as u8),
            stop: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if s.mode() == Mode::Drop {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                {
                    let mut open = s.open.lock().unwrap();
                    open.extend(client.try_clone().ok());
                    open.extend(server.try_clone().ok());
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let a = s.clone();
                std::thread::spawn(move || pump(client, s2, &a, false));
                let b = s.clone();
                std::thread::spawn(move || pump(server, c2, &b, true));
            }
        });
        Relay { port, shared }
    }

    /// Switches the mode; `Drop` also cuts every open connection.
    pub fn set(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
        if mode == Mode::Drop {
            for c in self.shared.open.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.set(Mode::Drop);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to` as the mode says; `answer`: these are the server's bytes.
fn pump(mut from: TcpStream, mut to: TcpStream, s: &Shared, answer: bool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            match s.mode() {
                Mode::Drop => {
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                // the fault being simulated: hold the bytes while the mode says so
                Mode::Stall => std::thread::sleep(Duration::from_millis(20)),
                Mode::Trickle if answer => {
                    let n = chunk.len().min(TRICKLE_BYTES);
                    if to.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    chunk = &chunk[n..];
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {
                    if to.write_all(chunk).is_err() {
                        return;
                    }
                    chunk = &[];
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
