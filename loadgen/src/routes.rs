//! The routes the senders announce: which prefixes (a [`PrefixPlan`] that maps
//! every generated prefix to a dense index, for the receivers' bitmaps), the path
//! attributes each UPDATE carries, and the UPDATE streams encoded before the clock
//! starts (RFC 4271 §4.3, RFC 4760 §3-4 for IPv6, RFC 7911 with ADD-PATH).
//!
//! # Prefix space
//!
//! Sender `s` announces the prefixes of index `s * stride .. s * stride + n`,
//! where `stride = round(n * (1 - overlap))`: overlap 0 gives disjoint ranges,
//! 1 makes every sender announce the same prefixes (with its own attributes).
//! Index `i` of the IPv4 space is the prefix `base + (i << (32 - len)) / len`:
//!
//! - up to 512 prefixes: /24s from 198.18.0.0 (RFC 2544's benchmarking block);
//! - up to 65,536: /24s from 10.0.0.0;
//! - more: the shortest length that fits 10.0.0.0/8 (/25 up to 131,072, ...,
//!   /28 up to 1,048,576, /32 at most).
//!
//! A caller may fix the base and length instead ([`PrefixPlan::with_v4`]); the
//! range then runs on linearly from the base and must stay out of 127/8.
//! IPv6 index `i` is the /48 `3fff:: + (i << 80)` (RFC 9637's documentation block
//! 3fff::/20). Nothing is installed anywhere: these are attribute values.
//!
//! # Decisive path lengths
//!
//! Where senders' ranges overlap ([`PrefixPlan::overlapping`]) the best path
//! of a prefix is made unambiguous: each family's indices fall in aligned
//! blocks of [`BLOCK`], and block `b` draws from a hash of (seed, family, `b`)
//! a base length `L(b)` in 1..=4 and a rank of every sender (a permutation of
//! `0..senders`). Sender `s`'s AS_PATH for a prefix of block `b` is one
//! AS_SEQUENCE of exactly `L(b) + rank(b, s)` ASes, so among any holders of a
//! prefix the lowest rank has the strictly shortest path, which RFC 4271
//! §9.1.2.2 (a) prefers whatever else the daemon compares next (LOCAL_PREF is
//! equal). No UPDATE carries prefixes of two blocks. [`FinalLengths`] gives
//! the winner's length per prefix, what a receiver of a route reflector
//! should end up with. Without overlap the paths stay random as before.

use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::wire::DecodeError;
use nexthop_core::wire::attribute::{
    AsPath, AsSegment, Asns, Communities, Community, MpNextHop, Origin, PathAttribute, SegmentType,
};
use nexthop_core::wire::header::{self, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use nexthop_core::wire::nlri::{Ipv4Prefix, Ipv6Prefix, Nlri, Prefix};
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{Family, Negotiated};

/// The IPv6 prefixes' base, 3fff::/20 (RFC 9637).
pub const V6_BASE: u128 = 0x3fff_u128 << 112;
/// IPv6 prefixes are /48s.
pub const V6_LEN: u8 = 48;

/// Prefix indices (of one family) per block of equal decisive path lengths.
pub const BLOCK: u32 = 64;
/// Largest sender count that gets decisive path lengths: `L + rank` must fit
/// one AS_SEQUENCE segment (255 ASes, RFC 4271 §4.3).
pub const MAX_DECISIVE_SENDERS: u32 = 250;

/// A half-open range of prefix indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexRange {
    /// First index.
    pub start: u32,
    /// One past the last.
    pub end: u32,
}

impl IndexRange {
    /// How many indices.
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which prefixes exist and where each one sits in the dense index space that
/// the receivers' bitmaps use: IPv4 indices first, then IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixPlan {
    /// First IPv4 prefix.
    pub v4_base: Ipv4Addr,
    /// IPv4 prefix length.
    pub v4_len: u8,
    /// IPv4 prefixes per sender.
    pub v4_per_sender: u32,
    /// Index distance between two senders' IPv4 ranges.
    pub v4_stride: u32,
    /// IPv6 prefixes per sender.
    pub v6_per_sender: u32,
    /// Index distance between two senders' IPv6 ranges.
    pub v6_stride: u32,
    /// Senders.
    pub senders: u32,
}

fn stride(n: u32, overlap: f64) -> u32 {
    let o = overlap.clamp(0.0, 1.0);
    ((f64::from(n)) * (1.0 - o)).round() as u32
}

fn union_len(senders: u32, n: u32, stride: u32) -> u32 {
    if senders == 0 || n == 0 {
        0
    } else {
        (senders - 1)
            .saturating_mul(stride.min(n))
            .saturating_add(n)
    }
}

impl PrefixPlan {
    /// The plan for `senders` senders of `v4` IPv4 and `v6` IPv6 prefixes each,
    /// with the automatic IPv4 space of the module docs.
    pub fn new(senders: u32, v4: u32, v6: u32, overlap: f64) -> Self {
        let v4_stride = stride(v4, overlap);
        let v6_stride = stride(v6, overlap);
        let union = union_len(senders, v4, v4_stride);
        let (base, len) = if union <= 512 {
            (Ipv4Addr::new(198, 18, 0, 0), 24)
        } else if union <= 65_536 {
            (Ipv4Addr::new(10, 0, 0, 0), 24)
        } else {
            let bits = 32 - (union - 1).leading_zeros();
            (Ipv4Addr::new(10, 0, 0, 0), (8 + bits).min(32) as u8)
        };
        PrefixPlan {
            v4_base: base,
            v4_len: len,
            v4_per_sender: v4,
            v4_stride,
            v6_per_sender: v6,
            v6_stride,
            senders,
        }
    }

    /// The same plan with a caller's IPv4 base and length; fails where the range
    /// would overflow the address space, touch 127/8 or the length is not 8..=32.
    pub fn with_v4(mut self, base: Ipv4Addr, len: u8) -> Result<Self, String> {
        if !(8..=32).contains(&len) {
            return Err(format!("prefix length /{len} is not in 8..=32"));
        }
        let step = 1u64 << (32 - u32::from(len));
        let first = u64::from(base.to_bits()) & !(step - 1);
        let last = first + u64::from(self.v4_union()).saturating_sub(1) * step;
        if last > u64::from(u32::MAX) {
            return Err(format!(
                "{} /{len} prefixes from {base} overflow the address space",
                self.v4_union()
            ));
        }
        let loopback = (127u64 << 24)..(128u64 << 24);
        if last >= loopback.start && first < loopback.end {
            return Err("the prefix range must stay out of 127/8".into());
        }
        self.v4_base = Ipv4Addr::from_bits(first as u32);
        self.v4_len = len;
        Ok(self)
    }

    /// IPv4 indices over all senders.
    pub fn v4_union(&self) -> u32 {
        union_len(self.senders, self.v4_per_sender, self.v4_stride)
    }

    /// IPv6 indices over all senders.
    pub fn v6_union(&self) -> u32 {
        union_len(self.senders, self.v6_per_sender, self.v6_stride)
    }

    /// Size of the index space: every distinct prefix of the run.
    pub fn total(&self) -> u32 {
        self.v4_union() + self.v6_union()
    }

    /// Whether two senders' ranges share prefixes (of either family), so that
    /// the best path of a prefix is a choice: then the senders' paths get
    /// [decisive lengths](self#decisive-path-lengths) (up to
    /// [`MAX_DECISIVE_SENDERS`] senders).
    pub fn overlapping(&self) -> bool {
        (2..=MAX_DECISIVE_SENDERS).contains(&self.senders)
            && ((self.v4_per_sender > 0 && self.v4_stride < self.v4_per_sender)
                || (self.v6_per_sender > 0 && self.v6_stride < self.v6_per_sender))
    }

    /// Sender `s`'s IPv4 index range.
    pub fn v4_range(&self, s: u32) -> IndexRange {
        let start = s * self.v4_stride;
        IndexRange {
            start,
            end: start + self.v4_per_sender,
        }
    }

    /// Sender `s`'s IPv6 index range (in IPv6 index space: add
    /// [`PrefixPlan::v4_union`] for the dense index).
    pub fn v6_range(&self, s: u32) -> IndexRange {
        let start = s * self.v6_stride;
        IndexRange {
            start,
            end: start + self.v6_per_sender,
        }
    }

    /// The IPv4 prefix of IPv4 index `i`.
    pub fn v4_prefix(&self, i: u32) -> Ipv4Prefix {
        let shift = 32 - u32::from(self.v4_len);
        let addr = self
            .v4_base
            .to_bits()
            .wrapping_add(((u64::from(i) << shift) & 0xffff_ffff) as u32);
        Ipv4Prefix::new(Ipv4Addr::from_bits(addr), self.v4_len).expect("length checked")
    }

    /// The IPv6 prefix of IPv6 index `i`.
    pub fn v6_prefix(&self, i: u32) -> Ipv6Prefix {
        let addr = V6_BASE + (u128::from(i) << (128 - u32::from(V6_LEN)));
        Ipv6Prefix::new(Ipv6Addr::from_bits(addr), V6_LEN).expect("length checked")
    }

    /// The dense index of `prefix`, or `None` for a prefix not in the plan.
    #[inline]
    pub fn index(&self, prefix: &Prefix) -> Option<u32> {
        match prefix {
            Prefix::V4(p) => {
                if p.prefix_len() != self.v4_len {
                    return None;
                }
                let off = p.bits().wrapping_sub(self.v4_base.to_bits());
                let i = u64::from(off) >> (32 - u32::from(self.v4_len));
                let i = u32::try_from(i).ok()?;
                (i < self.v4_union()).then_some(i)
            }
            Prefix::V6(p) => {
                if p.prefix_len() != V6_LEN {
                    return None;
                }
                let off = p.bits().wrapping_sub(V6_BASE);
                let i = u32::try_from(off >> (128 - u32::from(V6_LEN))).ok()?;
                (i < self.v6_union()).then(|| self.v4_union() + i)
            }
        }
    }

    /// How many distinct prefixes remain announced once every sender has
    /// withdrawn the first `fraction` of each of its ranges.
    pub fn remaining_after_withdraw(&self, fraction: f64) -> u32 {
        let count = |n: u32, range: &dyn Fn(u32) -> IndexRange| {
            let w = withdrawn_count(n, fraction);
            let mut kept: Vec<IndexRange> = (0..self.senders)
                .map(|s| {
                    let r = range(s);
                    IndexRange {
                        start: r.start + w,
                        end: r.end,
                    }
                })
                .filter(|r| !r.is_empty())
                .collect();
            kept.sort_by_key(|r| r.start);
            let mut total = 0u32;
            let mut covered_to = 0u32;
            for r in kept {
                let start = r.start.max(covered_to);
                if r.end > start {
                    total += r.end - start;
                    covered_to = r.end;
                }
            }
            total
        };
        count(self.v4_per_sender, &|s| self.v4_range(s))
            + count(self.v6_per_sender, &|s| self.v6_range(s))
    }
}

/// Prefixes of a range of `n` that a withdrawal of `fraction` takes back.
pub fn withdrawn_count(n: u32, fraction: f64) -> u32 {
    ((f64::from(n)) * fraction.clamp(0.0, 1.0)).floor() as u32
}

/// A deterministic generator (SplitMix64), so that runs are reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// The decisive path lengths of one block (module docs): `(L(b), ranks)`,
/// `ranks[s]` being sender `s`'s rank, from a hash of (seed, family, block).
pub fn block_lengths(seed: u64, v6: bool, block: u32, senders: u32) -> (u8, Vec<u32>) {
    let key = (u64::from(block) << 1) | u64::from(v6);
    let mut rng = Rng::new(seed ^ 0xdec1_5e00_0000_0000 ^ key.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let base = 1 + rng.below(4) as u8;
    let mut order: Vec<u32> = (0..senders).collect();
    for k in (1..order.len()).rev() {
        let j = rng.below(k as u32 + 1) as usize;
        order.swap(k, j);
    }
    let mut ranks = vec![0; senders as usize];
    for (rank, &s) in order.iter().enumerate() {
        ranks[s as usize] = rank as u32;
    }
    (base, ranks)
}

/// Sender `s`'s decisive AS_PATH length for the prefixes of `block`.
fn decisive_len(seed: u64, v6: bool, block: u32, senders: u32, s: u32) -> usize {
    let (base, ranks) = block_lengths(seed, v6, block, senders);
    usize::from(base) + ranks.get(s as usize).copied().unwrap_or(0) as usize
}

/// The final best path's AS_PATH length (as the senders sent it) of every
/// prefix of an overlapping plan, by dense index (IPv4, then IPv6): `L(b)` plus
/// the lowest rank among the senders whose range holds the prefix. Built once
/// per run and shared by the receivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalLengths {
    /// Length per dense index; 0 for an index no sender holds.
    pub lengths: Vec<u8>,
}

impl FinalLengths {
    /// The lengths of `plan`'s prefixes for senders seeded with `seed`, or
    /// `None` for a plan without overlap (no decisive lengths).
    pub fn new(plan: &PrefixPlan, seed: u64) -> Option<Self> {
        if !plan.overlapping() {
            return None;
        }
        let mut lengths = Vec::with_capacity(plan.total() as usize);
        let family = |lengths: &mut Vec<u8>, union: u32, v6: bool| {
            let range = |s: u32| {
                if v6 {
                    plan.v6_range(s)
                } else {
                    plan.v4_range(s)
                }
            };
            for block in 0..union.div_ceil(BLOCK) {
                let (base, ranks) = block_lengths(seed, v6, block, plan.senders);
                let end = ((block + 1) * BLOCK).min(union);
                for i in block * BLOCK..end {
                    let best = (0..plan.senders)
                        .filter(|&s| {
                            let r = range(s);
                            r.start <= i && i < r.end
                        })
                        .map(|s| ranks[s as usize])
                        .min();
                    lengths.push(best.map_or(0, |r| (u32::from(base) + r).min(255) as u8));
                }
            }
        };
        family(&mut lengths, plan.v4_union(), false);
        family(&mut lengths, plan.v6_union(), true);
        Some(FinalLengths { lengths })
    }

    /// The final length of dense index `i`.
    #[inline]
    pub fn get(&self, i: u32) -> Option<u8> {
        self.lengths.get(i as usize).copied()
    }
}

/// The path attributes of one UPDATE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeSet {
    /// ORIGIN.
    pub origin: Origin,
    /// The AS_SEQUENCE, prepends included (1 to 12 ASes before prepending).
    pub as_path: Vec<u32>,
    /// MULTI_EXIT_DISC, on some routes.
    pub med: Option<u32>,
    /// COMMUNITIES, 0 to 10.
    pub communities: Vec<u32>,
}

/// One sender's identity, as its routes need it.
#[derive(Clone, Copy, Debug)]
pub struct SenderRoutes {
    /// Sender index.
    pub index: u32,
    /// The sender's AS.
    pub asn: u32,
    /// eBGP: the AS_PATH starts with the sender's AS and carries no LOCAL_PREF.
    pub ebgp: bool,
    /// NEXT_HOP for IPv4.
    pub next_hop: Ipv4Addr,
    /// Next hop for IPv6 (MP_REACH_NLRI).
    pub next_hop_v6: Ipv6Addr,
    /// Largest number of prefixes in one UPDATE; `None` packs to 4096 octets.
    pub per_update: Option<u32>,
    /// Seed of the attribute generator.
    pub seed: u64,
}

/// A public AS for generated paths: 2-octet ones below the documentation and
/// private ranges, 4-octet ones in 131072..=399999 (so paths need 4-octet AS).
fn random_asn(rng: &mut Rng) -> u32 {
    if rng.chance(70) {
        1 + rng.below(64_000)
    } else {
        131_072 + rng.below(268_928)
    }
}

/// Draws the attributes of one UPDATE: AS paths of 1 to 12 ASes (most 2 to 6)
/// with prepends on a fifth of them, 0 to 10 communities, MED on a third.
pub fn attribute_set(rng: &mut Rng, sender: &SenderRoutes) -> AttributeSet {
    attribute_set_of_len(rng, sender, None)
}

/// [`attribute_set`], with an AS_PATH of exactly `path_len` ASes (no
/// prepends) where given: the decisive length of the module docs.
pub fn attribute_set_of_len(
    rng: &mut Rng,
    sender: &SenderRoutes,
    path_len: Option<usize>,
) -> AttributeSet {
    let origin = match rng.below(20) {
        0 => Origin::Egp,
        1..=3 => Origin::Incomplete,
        _ => Origin::Igp,
    };
    // A bell-ish length in 1..=12: the sum of two draws.
    let len = path_len.unwrap_or_else(|| (1 + rng.below(6) + rng.below(7)) as usize);
    let mut path = Vec::with_capacity(len + 4);
    if sender.ebgp && len > 0 {
        path.push(sender.asn);
    }
    while path.len() < len {
        path.push(random_asn(rng));
    }
    if path_len.is_none() && rng.chance(20) {
        // Prepend the origin AS, or (eBGP) our own, one to three times.
        let at = if sender.ebgp && rng.chance(50) {
            0
        } else {
            path.len() - 1
        };
        for _ in 0..1 + rng.below(3) {
            path.insert(at, path[at]);
        }
    }
    let med = rng.chance(33).then(|| rng.below(1000));
    let first = path.first().copied().unwrap_or(sender.asn);
    let tag = if first <= 0xffff { first } else { 64_496 };
    let communities = (0..rng.below(11))
        .map(|_| (tag << 16) | rng.below(0x1_0000))
        .collect();
    AttributeSet {
        origin,
        as_path: path,
        med,
        communities,
    }
}

/// A stream of whole UPDATE messages, back to back.
#[derive(Clone, Debug, Default)]
pub struct UpdateStream {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Messages in it.
    pub messages: u32,
    /// Prefixes in it (announced or withdrawn).
    pub prefixes: u32,
}

impl UpdateStream {
    /// Its messages, each whole (header included), in order.
    pub fn split(&self) -> Vec<&[u8]> {
        let mut out = Vec::with_capacity(self.messages as usize);
        let mut rest = &self.bytes[..];
        while let Ok(Some(len)) = header::frame(rest, MAX_EXTENDED_MESSAGE_LEN) {
            let (m, tail) = rest.split_at(len);
            out.push(m);
            rest = tail;
        }
        out
    }
}

/// One iBGP sender's `prefixes` IPv4 prefixes (a plan of one sender), announced
/// and all withdrawn, for a 4-octet-AS session: the fixture of the receivers'
/// cost measurements (`benches/table.rs`, `examples/table_cost.rs`).
pub fn one_sender_fixture(prefixes: u32) -> (PrefixPlan, EncodedRoutes) {
    let plan = PrefixPlan::new(1, prefixes, 0, 0.0);
    let neg = Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    };
    let sender = SenderRoutes {
        index: 0,
        asn: 65000,
        ebgp: false,
        next_hop: Ipv4Addr::new(198, 51, 100, 1),
        next_hop_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
        per_update: None,
        seed: 1,
    };
    let routes = encode_sender(&plan, &sender, 1.0, &neg);
    (plan, routes)
}

/// A sender's pre-encoded UPDATEs.
#[derive(Clone, Debug, Default)]
pub struct EncodedRoutes {
    /// Announcements: IPv4, then IPv6.
    pub announce: UpdateStream,
    /// Withdrawals of the first part of each range.
    pub withdraw: UpdateStream,
    /// The parameters they were encoded for.
    pub negotiated: Negotiated,
}

impl EncodedRoutes {
    /// Every message: the announcements, then the withdrawals.
    pub fn all_messages(&self) -> Vec<&[u8]> {
        let mut all = self.announce.split();
        all.extend(self.withdraw.split());
        all
    }

    /// Every message parsed by core, as a receiver would (for the cost
    /// measurements); the first that does not parse is the error.
    pub fn parsed(&self) -> Result<Vec<Update<'_>>, DecodeError> {
        self.all_messages()
            .into_iter()
            .map(|m| Update::parse(m, &self.negotiated))
            .collect()
    }
}

fn add_attributes(
    b: &mut UpdateBuilder<'_>,
    set: &AttributeSet,
    sender: &SenderRoutes,
    negotiated: &Negotiated,
    v4_next_hop: bool,
) {
    let seg = [AsSegment {
        kind: SegmentType::AsSequence,
        asns: Asns::List(&set.as_path),
    }];
    let comms: Vec<Community> = set.communities.iter().map(|&c| Community(c)).collect();
    let mut attrs = vec![
        PathAttribute::Origin(set.origin),
        PathAttribute::AsPath(AsPath::List(&seg)),
    ];
    if v4_next_hop {
        attrs.push(PathAttribute::NextHop(sender.next_hop));
    }
    if let Some(m) = set.med {
        attrs.push(PathAttribute::MultiExitDisc(m));
    }
    if !sender.ebgp {
        attrs.push(PathAttribute::LocalPref(100));
    }
    if !comms.is_empty() {
        attrs.push(PathAttribute::Communities(Communities::List(&comms)));
    }
    if !negotiated.four_octet_as && set.as_path.iter().any(|&a| a > 0xffff) {
        attrs.push(PathAttribute::As4Path(AsPath::List(&seg)));
    }
    for a in &attrs {
        b.attribute(a).expect("attributes fit an empty UPDATE");
    }
}

/// Encodes announcements of `prefixes` (all of one family, with their index
/// in the family) into `out`, a new attribute set per UPDATE, each UPDATE
/// packed to 4096 octets or `per_update`. With `decisive` (the plan's sender
/// count) an UPDATE holds prefixes of one block only and its AS_PATH has the
/// block's decisive length for this sender.
fn encode_announce(
    out: &mut UpdateStream,
    prefixes: impl Iterator<Item = (u32, Prefix)>,
    rng: &mut Rng,
    sender: &SenderRoutes,
    negotiated: &Negotiated,
    decisive: Option<u32>,
) {
    let mut prefixes = prefixes.peekable();
    let mut buf = vec![0u8; MAX_MESSAGE_LEN];
    let limit = sender.per_update.unwrap_or(u32::MAX).max(1);
    while let Some(&(at, first)) = prefixes.peek() {
        let v6 = matches!(first, Prefix::V6(_));
        let block = at / BLOCK;
        let path_len =
            decisive.map(|senders| decisive_len(sender.seed, v6, block, senders, sender.index));
        let set = attribute_set_of_len(rng, sender, path_len);
        let mut b = UpdateBuilder::new(&mut buf, negotiated).expect("4096-octet buffer");
        add_attributes(&mut b, &set, sender, negotiated, !v6);
        if v6 {
            b.begin_mp_reach(Family::IPV6_UNICAST, MpNextHop::Ipv6(sender.next_hop_v6))
                .expect("MP_REACH_NLRI fits");
        }
        let mut n = 0;
        while n < limit {
            let Some(&(i, p)) = prefixes.peek() else {
                break;
            };
            if decisive.is_some() && i / BLOCK != block {
                break;
            }
            let nlri = nlri_for(p, negotiated);
            let fit = if v6 { b.mp_nlri(&nlri) } else { b.nlri(&nlri) };
            if !fit.expect("prefix of the UPDATE's family") {
                break;
            }
            prefixes.next();
            n += 1;
        }
        let len = b.finish().expect("UPDATE fits");
        out.bytes.extend_from_slice(&buf[..len]);
        out.messages += 1;
        out.prefixes += n;
    }
}

fn encode_withdraw(
    out: &mut UpdateStream,
    prefixes: impl Iterator<Item = Prefix>,
    negotiated: &Negotiated,
) {
    let mut prefixes = prefixes.peekable();
    let mut buf = vec![0u8; MAX_MESSAGE_LEN];
    while let Some(&first) = prefixes.peek() {
        let mut b = UpdateBuilder::new(&mut buf, negotiated).expect("4096-octet buffer");
        let v6 = matches!(first, Prefix::V6(_));
        if v6 {
            b.begin_mp_unreach(Family::IPV6_UNICAST)
                .expect("MP_UNREACH_NLRI fits");
        }
        let mut n = 0;
        while let Some(&p) = prefixes.peek() {
            let nlri = nlri_for(p, negotiated);
            let fit = if v6 {
                b.mp_nlri(&nlri)
            } else {
                b.withdraw(&nlri)
            };
            if !fit.expect("prefix of the UPDATE's family") {
                break;
            }
            prefixes.next();
            n += 1;
        }
        let len = b.finish().expect("UPDATE fits");
        out.bytes.extend_from_slice(&buf[..len]);
        out.messages += 1;
        out.prefixes += n;
    }
}

fn nlri_for(p: Prefix, negotiated: &Negotiated) -> Nlri {
    let family = match p {
        Prefix::V4(_) => Family::IPV4_UNICAST,
        Prefix::V6(_) => Family::IPV6_UNICAST,
    };
    if negotiated.add_path_send.contains(family) {
        Nlri::with_path_id(1, p)
    } else {
        Nlri::new(p)
    }
}

/// Encodes sender `sender.index`'s announcements and withdrawals (the first
/// `withdraw` fraction of each range) for a session with `negotiated`.
pub fn encode_sender(
    plan: &PrefixPlan,
    sender: &SenderRoutes,
    withdraw: f64,
    negotiated: &Negotiated,
) -> EncodedRoutes {
    let mut rng = Rng::new(sender.seed ^ (u64::from(sender.index) << 32 | 0x5eed));
    let r4 = plan.v4_range(sender.index);
    let r6 = plan.v6_range(sender.index);
    let mut announce = UpdateStream::default();
    let decisive = plan.overlapping().then_some(plan.senders);
    let v4 = (r4.start..r4.end).map(|i| (i, Prefix::V4(plan.v4_prefix(i))));
    encode_announce(&mut announce, v4, &mut rng, sender, negotiated, decisive);
    let v6 = (r6.start..r6.end).map(|i| (i, Prefix::V6(plan.v6_prefix(i))));
    encode_announce(&mut announce, v6, &mut rng, sender, negotiated, decisive);

    let mut out = UpdateStream::default();
    let w4 = withdrawn_count(r4.len(), withdraw);
    let w6 = withdrawn_count(r6.len(), withdraw);
    let v4 = (r4.start..r4.start + w4).map(|i| Prefix::V4(plan.v4_prefix(i)));
    encode_withdraw(&mut out, v4, negotiated);
    let v6 = (r6.start..r6.start + w6).map(|i| Prefix::V6(plan.v6_prefix(i)));
    encode_withdraw(&mut out, v6, negotiated);
    EncodedRoutes {
        announce,
        withdraw: out,
        negotiated: *negotiated,
    }
}
