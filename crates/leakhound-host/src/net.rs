//! TCP connections from `/proc/net/tcp` and `/proc/net/tcp6`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// One TCP socket that talks to (or is trying to reach) another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connection {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Socket inode, to find the owning process through its `fd/` links.
    pub inode: u64,
}

/// States worth reporting: established, and SYN_SENT (a miner retrying a pool).
const ESTABLISHED: &str = "01";
const SYN_SENT: &str = "02";

/// Outgoing and established connections of both families.
pub(crate) fn connections(proc_root: &Path) -> Vec<Connection> {
    let mut out = Vec::new();
    for file in ["net/tcp", "net/tcp6"] {
        if let Ok(text) = crate::procfs::read_text(&proc_root.join(file), 256 << 20) {
            out.extend(text.lines().skip(1).filter_map(parse_line));
        }
    }
    out
}

fn parse_line(line: &str) -> Option<Connection> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (local, remote, state, inode) = (f.get(1)?, f.get(2)?, f.get(3)?, f.get(9)?);
    if *state != ESTABLISHED && *state != SYN_SENT {
        return None;
    }
    Some(Connection {
        local: parse_addr(local)?,
        remote: parse_addr(remote)?,
        inode: inode.parse().ok()?,
    })
}

/// `0100007F:0D05` -> 127.0.0.1:3333. The address is the kernel's in-memory words
/// printed in hex: each 32-bit word in the host's byte order (little-endian here).
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word =
        |hex: &str| -> Option<[u8; 4]> { Some(u32::from_str_radix(hex, 16).ok()?.to_le_bytes()) };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            // A v4 peer of a dual-stack socket: report it as v4.
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_both_families_parse() {
        let v4 = "   1: 0100007F:A1B2 0100007F:0D05 01 00000000:00000000 00:00000000 00000000  1000        0 55501 1 0000000000000000 20 4 30 10 -1";
        let c = parse_line(v4).unwrap_or_else(|| panic!("v4 line"));
        assert_eq!(
            c.remote,
            "127.0.0.1:3333".parse().unwrap_or_else(|_| unreachable!())
        );
        assert_eq!(c.inode, 55501);
        let listening = "   0: 00000000:0D05 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 55500 1";
        assert!(parse_line(listening).is_none());
        let v6 = "   2: 00000000000000000000000001000000:C350 0000000000000000FFFF00000200000A:115C 02 00000000:00000000 00:00000000 00000000 0 0 777 1";
        let c = parse_line(v6).unwrap_or_else(|| panic!("v6 line"));
        assert_eq!(
            c.remote,
            "10.0.0.2:4444".parse().unwrap_or_else(|_| unreachable!())
        );
        assert_eq!(c.local.port(), 50000);
    }
}
