//! GTSM (RFC 5082 §3) for the TCP handshake: a classic BPF socket filter for a
//! listening socket that drops a segment from a peer whose rule asks for a
//! minimum TTL (IPv6: hop limit) the segment does not have, and lets every other
//! segment through. The program reads the IP header through `SKF_NET_OFF`: the
//! source address picks the rule (longest prefix first), the TTL is compared
//! with the rule's minimum.
//!
//! Why a filter and not the listener's `IP_MINTTL`: the kernel checks the
//! listener's minimum on SYNs, but it is one value for every peer, and a peer
//! without GTSM (or another minimum) may connect to the same listener. The
//! filter is per prefix. What the kernel runs it on (Linux `tcp_v4_rcv` and
//! `tcp_v6_rcv`, checked on 6.18 by this crate's tests): every segment to the
//! listener (the SYN, and the handshake's final ACK, also under SYN cookies),
//! and, since an accepted socket inherits its listener's filter, every segment
//! of the connection after it. A dropped SYN is answered with nothing: the
//! connect of a sender that is too far away times out, and the listener never
//! has a connection to accept. What it cannot do: tell the peer (GTSM drops
//! silently by design), or log each drop (the listener's drop count,
//! `SO_MEMINFO`, counts them).
//!
//! The program is pure data, built here and tested by running it on a small
//! interpreter; [`crate::sockopt`] attaches it.

use std::net::IpAddr;

use crate::PeerSocketRules;
use crate::rules::{mask32, mask128};

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Operation.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

/// The most instructions the kernel takes in one program (`BPF_MAXINSNS`).
pub const MAX_INSTRUCTIONS: usize = 4096;

/// Classic BPF opcodes (`<linux/bpf_common.h>`, the same on every system).
mod op {
    /// `BPF_LD | BPF_B | BPF_ABS`: A = the byte at k.
    pub const LD_B_ABS: u16 = 0x30;
    /// `BPF_LD | BPF_W | BPF_ABS`: A = the 32-bit word at k.
    pub const LD_W_ABS: u16 = 0x20;
    /// `BPF_ALU | BPF_AND | BPF_K`: A &= k.
    pub const ALU_AND_K: u16 = 0x54;
    /// `BPF_JMP | BPF_JEQ | BPF_K`.
    pub const JEQ_K: u16 = 0x15;
    /// `BPF_JMP | BPF_JGE | BPF_K`.
    pub const JGE_K: u16 = 0x35;
    /// `BPF_RET | BPF_K`: keep k bytes.
    pub const RET_K: u16 = 0x06;
    /// `BPF_MISC | BPF_TAX`: X = A.
    pub const TAX: u16 = 0x07;
    /// `BPF_MISC | BPF_TXA`: A = X.
    pub const TXA: u16 = 0x87;
}

/// `SKF_NET_OFF`: loads at this offset (plus a header offset) read the network
/// header.
const NET: u32 = (-0x10_0000i32) as u32;
/// Return values: keep the whole segment, or drop it.
const ACCEPT: u32 = u32::MAX;
const DROP: u32 = 0;

/// Where the TTL / hop limit and the source address sit in the IP header.
const V4_TTL: u32 = 8;
const V4_SOURCE: u32 = 12;
const V6_HOP_LIMIT: u32 = 7;
const V6_SOURCE: u32 = 8;

/// More GTSM rules than one program holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyRules {
    /// Instructions the program would need.
    pub needed: usize,
}

impl std::fmt::Display for TooManyRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the GTSM filter for these prefixes needs {} instructions, more than the kernel's {MAX_INSTRUCTIONS}",
            self.needed
        )
    }
}

impl std::error::Error for TooManyRules {}

const fn ins(code: u16, jt: u8, jf: u8, k: u32) -> Instruction {
    Instruction { code, jt, jf, k }
}

/// The filter for a listener of the family `v6`, or `None` when no rule of that
/// family asks for a minimum TTL (no filter is needed). Rules of the family are
/// matched longest prefix first; a match with a minimum TTL keeps the segment
/// only at or above it, a match without one (an exemption inside a GTSM range)
/// keeps it, no match keeps it.
pub fn program(
    v6: bool,
    rules: &PeerSocketRules,
) -> Result<Option<Vec<Instruction>>, TooManyRules> {
    if !rules.any_min_ttl(v6) {
        return Ok(None);
    }
    let family: Vec<_> = rules
        .iter()
        .filter(|r| r.prefix.addr().is_ipv6() == v6)
        .collect();
    let ttl_at = if v6 { V6_HOP_LIMIT } else { V4_TTL };
    let mut p = vec![
        ins(op::LD_B_ABS, 0, 0, NET.wrapping_add(ttl_at)),
        ins(op::TAX, 0, 0, 0),
    ];
    for (i, rule) in family.iter().enumerate() {
        // A rule without a minimum matters only inside a shorter GTSM rule (the
        // rules are longest first: the shorter ones come later).
        let needed = rule.min_ttl.is_some()
            || family[i + 1..]
                .iter()
                .any(|r| r.min_ttl.is_some() && r.prefix.covers(&rule.prefix));
        if !needed {
            continue;
        }
        let mut block = match_prefix(rule.prefix.addr(), rule.prefix.length());
        let matched = block.len();
        match rule.min_ttl {
            Some(min) => block.extend([
                ins(op::TXA, 0, 0, 0),
                ins(op::JGE_K, 0, 1, u32::from(min)),
                ins(op::RET_K, 0, 0, ACCEPT),
                ins(op::RET_K, 0, 0, DROP),
            ]),
            None => block.push(ins(op::RET_K, 0, 0, ACCEPT)),
        }
        // Every failed comparison jumps past the block, to the next rule.
        let len = block.len();
        for (j, b) in block[..matched].iter_mut().enumerate() {
            if b.code == op::JEQ_K {
                b.jf = u8::try_from(len - j - 1).unwrap_or(u8::MAX);
            }
        }
        p.extend(block);
    }
    p.push(ins(op::RET_K, 0, 0, ACCEPT));
    if p.len() > MAX_INSTRUCTIONS {
        return Err(TooManyRules { needed: p.len() });
    }
    Ok(Some(p))
}

/// Instructions that fall through when the source address is in the prefix
/// (their `jf` is set by the caller). IPv6 compares up to four words.
fn match_prefix(addr: IpAddr, len: u8) -> Vec<Instruction> {
    let words: Vec<(u32, u32, u32)> = match addr {
        IpAddr::V4(a) => vec![(V4_SOURCE, u32::from(a), mask32(len))],
        IpAddr::V6(a) => {
            let (a, m) = (u128::from(a), mask128(len));
            (0..4)
                .map(|i| {
                    let shift = 96 - 32 * i;
                    (V6_SOURCE + 4 * i, (a >> shift) as u32, (m >> shift) as u32)
                })
                .collect()
        }
    };
    let mut out = Vec::new();
    for (offset, value, mask) in words {
        if mask == 0 {
            continue;
        }
        out.push(ins(op::LD_W_ABS, 0, 0, NET.wrapping_add(offset)));
        if mask != u32::MAX {
            out.push(ins(op::ALU_AND_K, 0, 0, mask));
        }
        out.push(ins(op::JEQ_K, 0, 0, value & mask));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PeerPrefix, PeerSocketRule};

    /// Runs a program the way the kernel does, on the subset `program` emits;
    /// `header` is the IP header. Returns the kept length (0: dropped).
    fn run(p: &[Instruction], header: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let load = |k: u32, n: usize| {
            let at = k.wrapping_sub(NET) as usize;
            let b = &header[at..at + n];
            b.iter().fold(0u32, |v, &byte| v << 8 | u32::from(byte))
        };
        for _ in 0..p.len() {
            let i = p[pc];
            pc += 1;
            match i.code {
                op::LD_B_ABS => a = load(i.k, 1),
                op::LD_W_ABS => a = load(i.k, 4),
                op::ALU_AND_K => a &= i.k,
                op::TAX => x = a,
                op::TXA => a = x,
                op::JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                op::JGE_K => pc += usize::from(if a >= i.k { i.jt } else { i.jf }),
                op::RET_K => return i.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
        panic!("ran off the end of the program");
    }

    fn v4(src: [u8; 4], ttl: u8) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 40, 0, 0, 0, 0, ttl, 6, 0, 0];
        h.extend_from_slice(&src);
        h.extend_from_slice(&[127, 0, 0, 1]);
        h
    }

    fn v6(src: &str, hops: u8) -> Vec<u8> {
        let src: std::net::Ipv6Addr = src.parse().unwrap();
        let mut h = vec![0x60, 0, 0, 0, 0, 20, 6, hops];
        h.extend_from_slice(&src.octets());
        h.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        h
    }

    fn rule(addr: &str, len: u8, min_ttl: Option<u8>) -> PeerSocketRule {
        PeerSocketRule {
            prefix: PeerPrefix::new(addr.parse().unwrap(), len).unwrap(),
            md5_key: None,
            min_ttl,
        }
    }

    #[test]
    fn a_host_rule_drops_its_peer_below_the_minimum_and_no_one_else() {
        let rules: PeerSocketRules = [rule("127.0.0.77", 32, Some(254))].into_iter().collect();
        let p = program(false, &rules).unwrap().unwrap();
        assert_eq!(run(&p, &v4([127, 0, 0, 77], 255)), ACCEPT);
        assert_eq!(run(&p, &v4([127, 0, 0, 77], 254)), ACCEPT);
        assert_eq!(run(&p, &v4([127, 0, 0, 77], 253)), DROP);
        assert_eq!(run(&p, &v4([127, 0, 0, 77], 1)), DROP);
        assert_eq!(run(&p, &v4([127, 0, 0, 78], 1)), ACCEPT, "no rule: kept");
        // A host rule needs no mask.
        assert!(p.iter().all(|i| i.code != op::ALU_AND_K));
    }

    #[test]
    fn the_longest_prefix_decides_and_an_exemption_keeps_a_host_inside_a_range() {
        let rules: PeerSocketRules = [
            rule("10.1.0.0", 16, Some(250)),
            rule("10.1.2.0", 24, Some(255)),
            rule("10.1.2.9", 32, None),
            rule("10.1.3.3", 32, None),
            rule("192.0.2.1", 32, None),
        ]
        .into_iter()
        .collect();
        let p = program(false, &rules).unwrap().unwrap();
        assert_eq!(run(&p, &v4([10, 1, 9, 9], 250)), ACCEPT);
        assert_eq!(run(&p, &v4([10, 1, 9, 9], 249)), DROP);
        assert_eq!(
            run(&p, &v4([10, 1, 2, 1], 254)),
            DROP,
            "the /24's 255 applies"
        );
        assert_eq!(run(&p, &v4([10, 1, 2, 1], 255)), ACCEPT);
        assert_eq!(run(&p, &v4([10, 1, 2, 9], 3)), ACCEPT, "exempt host");
        assert_eq!(run(&p, &v4([10, 1, 3, 3], 3)), ACCEPT, "exempt host");
        assert_eq!(run(&p, &v4([10, 2, 0, 1], 1)), ACCEPT);
        // 192.0.2.1 is in no GTSM range: it costs no instructions.
        assert!(p.iter().all(|i| i.k != u32::from_be_bytes([192, 0, 2, 1])));
    }

    #[test]
    fn ipv6_rules_compare_the_words_their_length_covers() {
        let rules: PeerSocketRules = [
            rule("2001:db8::1", 128, Some(255)),
            rule("2001:db8:1::", 48, Some(254)),
            rule("0.0.0.0", 0, Some(255)),
        ]
        .into_iter()
        .collect();
        let p = program(true, &rules).unwrap().unwrap();
        assert_eq!(run(&p, &v6("2001:db8::1", 255)), ACCEPT);
        assert_eq!(run(&p, &v6("2001:db8::1", 254)), DROP);
        assert_eq!(run(&p, &v6("2001:db8::2", 1)), ACCEPT);
        assert_eq!(run(&p, &v6("2001:db8:1:ff::5", 254)), ACCEPT);
        assert_eq!(run(&p, &v6("2001:db8:1:ff::5", 253)), DROP);
        assert_eq!(run(&p, &v6("2001:db8:2::5", 1)), ACCEPT);
        // The IPv4 rule is the IPv4 listener's.
        let p4 = program(false, &rules).unwrap().unwrap();
        assert_eq!(run(&p4, &v4([203, 0, 113, 1], 254)), DROP);
        assert_eq!(run(&p4, &v4([203, 0, 113, 1], 255)), ACCEPT);
    }

    #[test]
    fn no_gtsm_rule_in_the_family_needs_no_filter() {
        let rules: PeerSocketRules = [
            rule("10.0.0.1", 32, Some(255)),
            rule("2001:db8::1", 128, None),
        ]
        .into_iter()
        .collect();
        assert_eq!(program(true, &rules), Ok(None));
        assert!(program(false, &rules).unwrap().is_some());
        assert_eq!(program(false, &PeerSocketRules::new()), Ok(None));
    }

    #[test]
    fn too_many_rules_for_one_program_is_an_error() {
        let rules: PeerSocketRules = (0..1000u32)
            .map(|i| {
                let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
                PeerSocketRule::host(a.into(), None, Some(255))
            })
            .collect();
        let e = program(false, &rules).unwrap_err();
        assert!(e.needed > MAX_INSTRUCTIONS, "{e}");
        let fewer: PeerSocketRules = rules.iter().take(500).cloned().collect();
        assert!(program(false, &fewer).unwrap().unwrap().len() <= MAX_INSTRUCTIONS);
    }
}
