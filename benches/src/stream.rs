//! A deterministic stream of BGP UPDATE messages (RFC 4271 §4.3) shaped like a
//! full-table feed over a session that negotiated 4-octet AS numbers (RFC 6793):
//! IPv4 unicast in the UPDATE's own fields, IPv6 unicast in MP_REACH_NLRI and
//! MP_UNREACH_NLRI (RFC 4760 §3, §4), each message packed up to 4096 bytes.
//!
//! The encoder here is deliberately independent of `nexthop-core`'s, so the
//! benchmark's input also cross-checks that parser.

/// What to generate. [`StreamSpec::FULL_TABLE`] is the benchmark's workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    /// Seed of the generator: the same spec always yields the same bytes.
    pub seed: u64,
    /// IPv4 unicast prefixes announced in the NLRI field.
    pub ipv4_prefixes: usize,
    /// IPv6 unicast prefixes announced in MP_REACH_NLRI.
    pub ipv6_prefixes: usize,
    /// IPv4 unicast prefixes in Withdrawn Routes fields.
    pub ipv4_withdrawals: usize,
    /// IPv6 unicast prefixes in MP_UNREACH_NLRI.
    pub ipv6_withdrawals: usize,
    /// Distinct path attribute sets; each run of prefixes uses one of them.
    pub attribute_sets: usize,
    /// Largest message, header included (4096 without RFC 8654).
    pub max_message_len: usize,
}

impl StreamSpec {
    /// About a full Internet table: 1M IPv4 and 200k IPv6 prefixes, 2% as many
    /// withdrawals, 4000 attribute sets, 4096-byte messages.
    pub const FULL_TABLE: StreamSpec = StreamSpec {
        seed: 0x6e65_7874_686f_7021,
        ipv4_prefixes: 1_000_000,
        ipv6_prefixes: 200_000,
        ipv4_withdrawals: 20_000,
        ipv6_withdrawals: 4_000,
        attribute_sets: 4_000,
        max_message_len: 4096,
    };

    /// The same shape with every prefix count divided by `divisor` (for tests).
    pub const fn scaled_down(self, divisor: usize) -> StreamSpec {
        StreamSpec {
            ipv4_prefixes: self.ipv4_prefixes / divisor,
            ipv6_prefixes: self.ipv6_prefixes / divisor,
            ipv4_withdrawals: self.ipv4_withdrawals / divisor,
            ipv6_withdrawals: self.ipv6_withdrawals / divisor,
            ..self
        }
    }
}

/// What a stream holds, as counted by the generator. A parser that walks the
/// whole stream must count the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// UPDATE messages.
    pub messages: usize,
    /// IPv4 prefixes in NLRI fields.
    pub ipv4_announced: usize,
    /// IPv6 prefixes in MP_REACH_NLRI.
    pub ipv6_announced: usize,
    /// IPv4 prefixes in Withdrawn Routes fields.
    pub ipv4_withdrawn: usize,
    /// IPv6 prefixes in MP_UNREACH_NLRI.
    pub ipv6_withdrawn: usize,
    /// Path attributes, MP_REACH_NLRI and MP_UNREACH_NLRI included.
    pub attributes: usize,
    /// AS numbers in all AS_PATH segments (AS_SEQUENCE and AS_SET).
    pub as_path_asns: usize,
    /// COMMUNITIES values (RFC 1997).
    pub communities: usize,
    /// LARGE_COMMUNITY values (RFC 8092).
    pub large_communities: usize,
    /// Order-independent digest of the values: every prefix (address and length),
    /// AS number, community, large community, MULTI_EXIT_DISC and LOCAL_PREF. Two
    /// walks that decode the same values in any order get the same digest.
    pub digest: u64,
}

/// Tags that keep the digests of different kinds of values apart.
mod tag {
    pub const IPV4_ANNOUNCED: u64 = 1 << 56;
    pub const IPV4_WITHDRAWN: u64 = 2 << 56;
    pub const IPV6_ANNOUNCED: u64 = 3 << 56;
    pub const IPV6_WITHDRAWN: u64 = 4 << 56;
    pub const ASN: u64 = 5 << 56;
    pub const COMMUNITY: u64 = 6 << 56;
    pub const LARGE_COMMUNITY: u64 = 7 << 56;
    pub const MED: u64 = 8 << 56;
    pub const LOCAL_PREF: u64 = 9 << 56;
}

impl Counts {
    /// Every prefix in the stream, announced or withdrawn.
    pub const fn prefixes(&self) -> usize {
        self.ipv4_announced + self.ipv6_announced + self.ipv4_withdrawn + self.ipv6_withdrawn
    }

    #[inline(always)]
    fn mix(&mut self, tag: u64, value: u64) {
        let x = (value ^ tag).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.digest = self.digest.wrapping_add(x ^ (x >> 29));
    }

    /// One IPv4 prefix, `bits` the address as a number.
    #[inline(always)]
    pub fn ipv4(&mut self, withdrawn: bool, bits: u32, len: u8) {
        let value = u64::from(bits) << 8 | u64::from(len);
        if withdrawn {
            self.ipv4_withdrawn += 1;
            self.mix(tag::IPV4_WITHDRAWN, value);
        } else {
            self.ipv4_announced += 1;
            self.mix(tag::IPV4_ANNOUNCED, value);
        }
    }

    /// One IPv6 prefix, `bits` the address as a number.
    #[inline(always)]
    pub fn ipv6(&mut self, withdrawn: bool, bits: u128, len: u8) {
        let value = ((bits >> 64) as u64 ^ (bits as u64).rotate_left(17)) ^ u64::from(len);
        if withdrawn {
            self.ipv6_withdrawn += 1;
            self.mix(tag::IPV6_WITHDRAWN, value);
        } else {
            self.ipv6_announced += 1;
            self.mix(tag::IPV6_ANNOUNCED, value);
        }
    }

    /// One AS number of an AS_PATH segment.
    #[inline(always)]
    pub fn asn(&mut self, asn: u32) {
        self.as_path_asns += 1;
        self.mix(tag::ASN, u64::from(asn));
    }

    /// One COMMUNITIES value.
    #[inline(always)]
    pub fn community(&mut self, community: u32) {
        self.communities += 1;
        self.mix(tag::COMMUNITY, u64::from(community));
    }

    /// One LARGE_COMMUNITY value.
    #[inline(always)]
    pub fn large_community(&mut self, global_admin: u32, local_data_1: u32, local_data_2: u32) {
        self.large_communities += 1;
        let value =
            u64::from(global_admin) << 32 ^ u64::from(local_data_1) << 16 ^ u64::from(local_data_2);
        self.mix(tag::LARGE_COMMUNITY, value);
    }

    /// A MULTI_EXIT_DISC value (the attribute itself is counted by the caller).
    #[inline(always)]
    pub fn med(&mut self, med: u32) {
        self.mix(tag::MED, u64::from(med));
    }

    /// A LOCAL_PREF value (the attribute itself is counted by the caller).
    #[inline(always)]
    pub fn local_pref(&mut self, local_pref: u32) {
        self.mix(tag::LOCAL_PREF, u64::from(local_pref));
    }
}

impl core::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.messages += o.messages;
        self.ipv4_announced += o.ipv4_announced;
        self.ipv6_announced += o.ipv6_announced;
        self.ipv4_withdrawn += o.ipv4_withdrawn;
        self.ipv6_withdrawn += o.ipv6_withdrawn;
        self.attributes += o.attributes;
        self.as_path_asns += o.as_path_asns;
        self.communities += o.communities;
        self.large_communities += o.large_communities;
        self.digest = self.digest.wrapping_add(o.digest);
    }
}

/// A generated stream: concatenated UPDATE messages and what they hold.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The messages, back to back, as they would arrive on the TCP connection.
    pub bytes: Vec<u8>,
    /// What the generator put in.
    pub counts: Counts,
}

/// Generates the stream `spec` describes. Deterministic: no clock, no OS entropy.
pub fn generate(spec: &StreamSpec) -> Stream {
    Generator::new(spec).run()
}

// ---------------------------------------------------------------------------
// Randomness: xorshift64* and a few draws from weighted tables.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Never zero: xorshift would stay at zero forever.
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next_u64() % 1000 < per_mille
    }

    /// Draws a value from `(weight, value)` pairs.
    fn weighted<T: Copy>(&mut self, table: &[(u32, T)]) -> T {
        let total: u64 = table.iter().map(|&(w, _)| u64::from(w)).sum();
        let mut pick = self.next_u64() % total;
        for &(w, v) in table {
            if pick < u64::from(w) {
                return v;
            }
            pick -= u64::from(w);
        }
        table[table.len() - 1].1
    }
}

/// IPv4 prefix lengths in a full table (per mille, roughly the 2020s table:
/// /24 dominates, then /22, /23, /21, /20, with a thin tail of shorter ones).
const IPV4_LENGTHS: &[(u32, u8)] = &[
    (610, 24),
    (120, 22),
    (100, 23),
    (50, 21),
    (40, 20),
    (30, 19),
    (15, 18),
    (10, 17),
    (15, 16),
    (3, 15),
    (3, 14),
    (2, 13),
    (1, 12),
    (1, 11),
];

/// IPv6 prefix lengths (per mille): /48 and /32 dominate, most between them.
const IPV6_LENGTHS: &[(u32, u8)] = &[
    (510, 48),
    (120, 32),
    (80, 44),
    (70, 40),
    (40, 36),
    (30, 29),
    (30, 47),
    (30, 46),
    (20, 45),
    (20, 42),
    (10, 38),
    (10, 33),
    (10, 30),
    (10, 56),
    (5, 64),
    (5, 28),
];

/// AS_PATH lengths before prepending (per mille).
const PATH_LENGTHS: &[(u32, usize)] = &[
    (30, 1),
    (150, 2),
    (280, 3),
    (250, 4),
    (140, 5),
    (70, 6),
    (40, 7),
    (20, 8),
    (10, 9),
    (5, 10),
    (3, 11),
    (2, 12),
];

/// How many prefixes share one attribute set in a run (per mille): most runs are
/// short, a few origins announce hundreds or thousands of prefixes, which fill
/// whole messages.
const RUN_LENGTHS: &[(u32, (u64, u64))] = &[
    (400, (1, 1)),
    (250, (2, 4)),
    (200, (5, 20)),
    (100, (21, 100)),
    (30, (101, 600)),
    (20, (601, 2000)),
];

/// Transit ASes a full-table feed's paths start with.
const FIRST_HOPS: &[u32] = &[3356, 1299, 174, 2914, 6939, 6453, 3257, 6762, 6461, 9002];

// ---------------------------------------------------------------------------
// Attribute sets.

const AS_SET: u8 = 1;
const AS_SEQUENCE: u8 = 2;

#[derive(Clone, Debug)]
struct AttributeSet {
    origin: u8,
    /// (segment type, AS numbers).
    as_path: Vec<(u8, Vec<u32>)>,
    next_hop_v4: [u8; 4],
    /// 16 bytes (global) or 32 (global and link-local, RFC 2545 §3).
    next_hop_v6: Vec<u8>,
    med: Option<u32>,
    local_pref: Option<u32>,
    atomic_aggregate: bool,
    aggregator: Option<(u32, [u8; 4])>,
    communities: Vec<u32>,
    large_communities: Vec<[u32; 3]>,
}

/// An AS number as seen in today's paths: about a third are 4-octet only.
fn random_asn(rng: &mut Rng) -> u32 {
    if rng.chance(350) {
        rng.range(131_072, 401_308) as u32
    } else {
        rng.range(1, 64_495) as u32
    }
}

impl AttributeSet {
    fn random(rng: &mut Rng, transit: &[u32]) -> AttributeSet {
        let length = rng.weighted(PATH_LENGTHS);
        let mut sequence = Vec::with_capacity(12);
        sequence.push(FIRST_HOPS[rng.next_u64() as usize % FIRST_HOPS.len()]);
        while sequence.len() < length.saturating_sub(1).max(1) {
            sequence.push(transit[rng.next_u64() as usize % transit.len()]);
        }
        if length > 1 {
            sequence.push(random_asn(rng));
        }
        // Prepending: the origin (or its upstream) repeats itself, up to 12 in all.
        if rng.chance(120) {
            let last = sequence[sequence.len() - 1];
            let extra = rng.range(1, 5) as usize;
            for _ in 0..extra.min(12 - sequence.len()) {
                sequence.push(last);
            }
        }
        let mut as_path = vec![(AS_SEQUENCE, sequence)];
        // Aggregated routes end in an AS_SET (RFC 4271 §9.2.2.2), with
        // ATOMIC_AGGREGATE and AGGREGATOR beside them.
        let with_as_set = rng.chance(15);
        if with_as_set {
            let members = (0..rng.range(2, 5)).map(|_| random_asn(rng)).collect();
            as_path.push((AS_SET, members));
        }
        let last_asn = |p: &[(u8, Vec<u32>)]| p[0].1[p[0].1.len() - 1];
        let origin_asn = last_asn(&as_path);

        let communities = {
            let n = rng.weighted(&[(300, (0, 0)), (300, (1, 3)), (250, (4, 6)), (150, (7, 10))]);
            let n = rng.range(n.0, n.1);
            (0..n)
                .map(|_| {
                    if rng.chance(15) {
                        0xffff_ff01 // NO_EXPORT (RFC 1997)
                    } else {
                        let hop = as_path[0].1[rng.next_u64() as usize % as_path[0].1.len()];
                        let high = if hop <= 0xffff { hop } else { 65_535 };
                        (high << 16) | rng.range(1, 9_999) as u32
                    }
                })
                .collect()
        };
        let large_communities = if rng.chance(120) {
            (0..rng.range(1, 3))
                .map(|_| {
                    [
                        origin_asn,
                        rng.range(1, 100) as u32,
                        rng.next_u32() % 100_000,
                    ]
                })
                .collect()
        } else {
            Vec::new()
        };
        let next_hop_v6 = {
            let mut nh = vec![0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            nh[15] = rng.range(1, 8) as u8;
            if rng.chance(500) {
                nh.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
                nh.extend_from_slice(&rng.next_u64().to_be_bytes());
            }
            nh
        };
        AttributeSet {
            origin: rng.weighted(&[(860, 0u8), (10, 1), (130, 2)]),
            as_path,
            next_hop_v4: [192, 0, 2, rng.range(1, 8) as u8],
            next_hop_v6,
            med: rng.chance(350).then(|| {
                let metric = rng.next_u32() % 5000;
                rng.weighted(&[(500, 0), (500, metric)])
            }),
            local_pref: rng
                .chance(400)
                .then(|| rng.weighted(&[(600, 100), (200, 200), (100, 80), (100, 50)])),
            atomic_aggregate: with_as_set || rng.chance(20),
            aggregator: (with_as_set || rng.chance(40))
                .then(|| (origin_asn, rng.next_u32().to_be_bytes())),
            communities,
            large_communities,
        }
    }

    /// Writes the attributes whose type code is below MP_REACH_NLRI's (14), in
    /// ascending order (RFC 4271 §5); NEXT_HOP only for IPv4 (RFC 4760 §3).
    fn encode_low(&self, ipv4: bool, out: &mut Vec<u8>) -> usize {
        let mut n = 0;
        let mut attr = |out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]| {
            put_attribute(out, flags, code, value);
            n += 1;
        };
        attr(out, WELL_KNOWN, 1, &[self.origin]);
        let mut path = Vec::with_capacity(64);
        for (kind, asns) in &self.as_path {
            path.push(*kind);
            path.push(asns.len() as u8);
            for asn in asns {
                path.extend_from_slice(&asn.to_be_bytes());
            }
        }
        attr(out, WELL_KNOWN, 2, &path);
        if ipv4 {
            attr(out, WELL_KNOWN, 3, &self.next_hop_v4);
        }
        if let Some(med) = self.med {
            attr(out, OPTIONAL, 4, &med.to_be_bytes());
        }
        if let Some(lp) = self.local_pref {
            attr(out, WELL_KNOWN, 5, &lp.to_be_bytes());
        }
        if self.atomic_aggregate {
            attr(out, WELL_KNOWN, 6, &[]);
        }
        if let Some((asn, id)) = self.aggregator {
            let mut v = [0u8; 8];
            v[..4].copy_from_slice(&asn.to_be_bytes());
            v[4..].copy_from_slice(&id);
            attr(out, OPTIONAL | TRANSITIVE, 7, &v);
        }
        if !self.communities.is_empty() {
            let v: Vec<u8> = self
                .communities
                .iter()
                .flat_map(|c| c.to_be_bytes())
                .collect();
            attr(out, OPTIONAL | TRANSITIVE, 8, &v);
        }
        n
    }

    /// Writes the attributes whose type code is above MP_UNREACH_NLRI's (15).
    fn encode_high(&self, out: &mut Vec<u8>) -> usize {
        if self.large_communities.is_empty() {
            return 0;
        }
        let v: Vec<u8> = self
            .large_communities
            .iter()
            .flat_map(|lc| lc.iter().flat_map(|x| x.to_be_bytes()))
            .collect();
        put_attribute(out, OPTIONAL | TRANSITIVE, 32, &v);
        1
    }

    /// What one message carrying this set adds to the counts, besides its
    /// prefixes and its attribute count.
    fn tally(&self) -> Counts {
        let mut c = Counts::default();
        self.as_path
            .iter()
            .flat_map(|(_, a)| a)
            .for_each(|&asn| c.asn(asn));
        self.communities.iter().for_each(|&v| c.community(v));
        for &[a, b, d] in &self.large_communities {
            c.large_community(a, b, d);
        }
        self.med.inspect(|&v| c.med(v));
        self.local_pref.inspect(|&v| c.local_pref(v));
        c
    }
}

// ---------------------------------------------------------------------------
// The encoder.

const OPTIONAL: u8 = 0x80;
const TRANSITIVE: u8 = 0x40;
const EXTENDED_LENGTH: u8 = 0x10;
const WELL_KNOWN: u8 = TRANSITIVE;
const HEADER_LEN: usize = 19;
const UPDATE_TYPE: u8 = 2;
const MP_REACH_NLRI: u8 = 14;
const MP_UNREACH_NLRI: u8 = 15;
const AFI_IPV6: u16 = 2;
const SAFI_UNICAST: u8 = 1;

/// Writes one path attribute (RFC 4271 §4.3), with a 2-byte length when needed.
fn put_attribute(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    if value.len() > 255 {
        out.extend_from_slice(&[flags | EXTENDED_LENGTH, code]);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags, code, value.len() as u8]);
    }
    out.extend_from_slice(value);
}

/// A prefix as (length, address bytes, most significant first).
#[derive(Clone, Copy)]
struct Prefix {
    ipv6: bool,
    len: u8,
    addr: [u8; 16],
}

impl Prefix {
    /// Encoded size: length octet plus the octets the length covers (RFC 4271 §4.3).
    fn wire_len(&self) -> usize {
        1 + usize::from(self.len).div_ceil(8)
    }

    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.len);
        out.extend_from_slice(&self.addr[..usize::from(self.len).div_ceil(8)]);
    }

    /// Counts the prefix, announced or withdrawn.
    fn count(&self, counts: &mut Counts, withdrawn: bool) {
        if self.ipv6 {
            counts.ipv6(withdrawn, u128::from_be_bytes(self.addr), self.len);
        } else {
            let [a, b, c, d, ..] = self.addr;
            counts.ipv4(withdrawn, u32::from_be_bytes([a, b, c, d]), self.len);
        }
    }

    /// Keeps the first `len` bits of `addr`, zeroes the rest.
    fn masked(ipv6: bool, len: u8, mut addr: [u8; 16]) -> Prefix {
        for (i, b) in addr.iter_mut().enumerate() {
            let bit = 8 * i as u32;
            let keep = u32::from(len).saturating_sub(bit).min(8);
            *b &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        }
        Prefix { ipv6, len, addr }
    }
}

/// Starts an UPDATE: header with a length to patch by [`finish_message`].
fn start_message(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&[0, 0, UPDATE_TYPE]);
    start
}

fn finish_message(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u16;
    out[start + 16..start + 18].copy_from_slice(&len.to_be_bytes());
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RunKind {
    AnnounceV4,
    AnnounceV6,
    WithdrawV4,
    WithdrawV6,
}

struct Generator {
    rng: Rng,
    spec: StreamSpec,
    sets: Vec<AttributeSet>,
    out: Vec<u8>,
    counts: Counts,
}

impl Generator {
    fn new(spec: &StreamSpec) -> Generator {
        let mut rng = Rng::new(spec.seed);
        let transit: Vec<u32> = (0..2000).map(|_| random_asn(&mut rng)).collect();
        let sets = (0..spec.attribute_sets.max(1))
            .map(|_| AttributeSet::random(&mut rng, &transit))
            .collect();
        // ~6 bytes per prefix plus attributes: reserve once.
        let prefixes =
            spec.ipv4_prefixes + spec.ipv6_prefixes + spec.ipv4_withdrawals + spec.ipv6_withdrawals;
        Generator {
            rng,
            spec: *spec,
            sets,
            out: Vec::with_capacity(prefixes * 8 + 4096),
            counts: Counts::default(),
        }
    }

    fn run(mut self) -> Stream {
        let mut left = [
            (RunKind::AnnounceV4, self.spec.ipv4_prefixes),
            (RunKind::AnnounceV6, self.spec.ipv6_prefixes),
            (RunKind::WithdrawV4, self.spec.ipv4_withdrawals),
            (RunKind::WithdrawV6, self.spec.ipv6_withdrawals),
        ];
        loop {
            let total: usize = left.iter().map(|&(_, n)| n).sum();
            if total == 0 {
                break;
            }
            // Interleave the kinds in proportion to what is left of each.
            let mut pick = self.rng.next_u64() as usize % total;
            let slot = left
                .iter()
                .position(|&(_, n)| {
                    if pick < n {
                        true
                    } else {
                        pick -= n;
                        false
                    }
                })
                .unwrap_or(0);
            let (kind, remaining) = left[slot];
            let (lo, hi) = match kind {
                RunKind::AnnounceV4 | RunKind::AnnounceV6 => self.rng.weighted(RUN_LENGTHS),
                RunKind::WithdrawV4 | RunKind::WithdrawV6 => (1, 40),
            };
            let run = (self.rng.range(lo, hi) as usize).min(remaining);
            let prefixes = self.prefixes(kind, run);
            match kind {
                RunKind::AnnounceV4 | RunKind::AnnounceV6 => {
                    let set = self.rng.next_u64() as usize % self.sets.len();
                    self.announce(kind == RunKind::AnnounceV6, set, &prefixes);
                }
                RunKind::WithdrawV4 => self.withdraw_v4(&prefixes),
                RunKind::WithdrawV6 => self.withdraw_v6(&prefixes),
            }
            left[slot].1 -= run;
        }
        Stream {
            bytes: self.out,
            counts: self.counts,
        }
    }

    /// `n` prefixes of one origin: close together in the address space.
    fn prefixes(&mut self, kind: RunKind, n: usize) -> Vec<Prefix> {
        let ipv6 = matches!(kind, RunKind::AnnounceV6 | RunKind::WithdrawV6);
        let mut base = [0u8; 16];
        if ipv6 {
            // Inside 2000::/4, as the global unicast table is.
            base[..8].copy_from_slice(&self.rng.next_u64().to_be_bytes());
            base[0] = 0x20 | (base[0] & 0x0f);
        } else {
            // 1.0.0.0 to 223.255.255.255.
            base[0] = self.rng.range(1, 223) as u8;
            base[1] = self.rng.next_u32() as u8;
        }
        (0..n)
            .map(|_| {
                let mut addr = base;
                if ipv6 {
                    addr[4..8].copy_from_slice(&self.rng.next_u32().to_be_bytes());
                    let len = self.rng.weighted(IPV6_LENGTHS);
                    Prefix::masked(true, len, addr)
                } else {
                    addr[2..4].copy_from_slice(&(self.rng.next_u32() as u16).to_be_bytes());
                    let len = self.rng.weighted(IPV4_LENGTHS);
                    Prefix::masked(false, len, addr)
                }
            })
            .collect()
    }

    /// Announces `prefixes` with attribute set `set`, as many per message as fit.
    fn announce(&mut self, ipv6: bool, set: usize, prefixes: &[Prefix]) {
        let set = &self.sets[set];
        let mut low = Vec::with_capacity(256);
        let mut high = Vec::with_capacity(64);
        let attributes = set.encode_low(!ipv6, &mut low) + set.encode_high(&mut high);
        let attributes = attributes + usize::from(ipv6);
        // MP_REACH_NLRI: flags, type, 2-byte length, AFI, SAFI, next hop length,
        // next hop, reserved (RFC 4760 §3).
        let mp_reach_fixed = if ipv6 {
            4 + 3 + 1 + set.next_hop_v6.len() + 1
        } else {
            0
        };
        let fixed = HEADER_LEN + 2 + 2 + low.len() + high.len() + mp_reach_fixed;
        let room = self.spec.max_message_len - fixed;
        let tally = Counts {
            messages: 1,
            attributes,
            ..set.tally()
        };

        let mut rest = prefixes;
        while !rest.is_empty() {
            let mut used = 0;
            let take = rest
                .iter()
                .take_while(|p| {
                    used += p.wire_len();
                    used <= room
                })
                .count();
            let (batch, after) = rest.split_at(take);
            rest = after;
            let nlri_len: usize = batch.iter().map(Prefix::wire_len).sum();

            let start = start_message(&mut self.out);
            self.out.extend_from_slice(&0u16.to_be_bytes()); // no withdrawn routes
            let attr_len =
                low.len() + high.len() + if ipv6 { mp_reach_fixed + nlri_len } else { 0 };
            self.out.extend_from_slice(&(attr_len as u16).to_be_bytes());
            self.out.extend_from_slice(&low);
            if ipv6 {
                let value_len = 3 + 1 + set.next_hop_v6.len() + 1 + nlri_len;
                self.out
                    .extend_from_slice(&[OPTIONAL | EXTENDED_LENGTH, MP_REACH_NLRI]);
                self.out
                    .extend_from_slice(&(value_len as u16).to_be_bytes());
                self.out.extend_from_slice(&AFI_IPV6.to_be_bytes());
                self.out.push(SAFI_UNICAST);
                self.out.push(set.next_hop_v6.len() as u8);
                self.out.extend_from_slice(&set.next_hop_v6);
                self.out.push(0);
                batch.iter().for_each(|p| p.put(&mut self.out));
                self.out.extend_from_slice(&high);
            } else {
                self.out.extend_from_slice(&high);
                batch.iter().for_each(|p| p.put(&mut self.out));
            }
            finish_message(&mut self.out, start);

            self.counts += tally;
            for p in batch {
                p.count(&mut self.counts, false);
            }
        }
    }

    /// Withdraws IPv4 prefixes in the Withdrawn Routes field (RFC 4271 §4.3).
    fn withdraw_v4(&mut self, prefixes: &[Prefix]) {
        let start = start_message(&mut self.out);
        let len: usize = prefixes.iter().map(Prefix::wire_len).sum();
        self.out.extend_from_slice(&(len as u16).to_be_bytes());
        prefixes.iter().for_each(|p| p.put(&mut self.out));
        self.out.extend_from_slice(&0u16.to_be_bytes()); // no path attributes
        finish_message(&mut self.out, start);
        self.counts.messages += 1;
        prefixes
            .iter()
            .for_each(|p| p.count(&mut self.counts, true));
    }

    /// Withdraws IPv6 prefixes in MP_UNREACH_NLRI, the only attribute (RFC 4760 §4).
    fn withdraw_v6(&mut self, prefixes: &[Prefix]) {
        let start = start_message(&mut self.out);
        let nlri_len: usize = prefixes.iter().map(Prefix::wire_len).sum();
        self.out.extend_from_slice(&0u16.to_be_bytes());
        self.out
            .extend_from_slice(&((4 + 3 + nlri_len) as u16).to_be_bytes());
        self.out
            .extend_from_slice(&[OPTIONAL | EXTENDED_LENGTH, MP_UNREACH_NLRI]);
        self.out
            .extend_from_slice(&((3 + nlri_len) as u16).to_be_bytes());
        self.out.extend_from_slice(&AFI_IPV6.to_be_bytes());
        self.out.push(SAFI_UNICAST);
        prefixes.iter().for_each(|p| p.put(&mut self.out));
        finish_message(&mut self.out, start);
        self.counts.messages += 1;
        self.counts.attributes += 1;
        prefixes
            .iter()
            .for_each(|p| p.count(&mut self.counts, true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_spec_same_bytes() {
        let spec = StreamSpec::FULL_TABLE.scaled_down(500);
        assert_eq!(generate(&spec).bytes, generate(&spec).bytes);
        let other = StreamSpec { seed: 7, ..spec };
        assert_ne!(generate(&spec).bytes, generate(&other).bytes);
    }

    #[test]
    fn digest_tells_values_and_kinds_apart() {
        let digest = |f: &dyn Fn(&mut Counts)| {
            let mut c = Counts::default();
            f(&mut c);
            c.digest
        };
        let a = digest(&|c| c.ipv4(false, 0x0a00_0000, 24));
        assert_ne!(a, digest(&|c| c.ipv4(false, 0x0a00_0100, 24)));
        assert_ne!(a, digest(&|c| c.ipv4(false, 0x0a00_0000, 23)));
        assert_ne!(a, digest(&|c| c.ipv4(true, 0x0a00_0000, 24)));
        assert_ne!(digest(&|c| c.asn(65001)), digest(&|c| c.community(65001)));
        // Order does not matter: parsers visit attributes and NLRI in different orders.
        assert_eq!(
            digest(&|c| {
                c.asn(1);
                c.med(2)
            }),
            digest(&|c| {
                c.med(2);
                c.asn(1)
            })
        );
    }

    #[test]
    fn masking_keeps_only_the_prefix_bits() {
        let p = Prefix::masked(
            false,
            20,
            [10, 11, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!(&p.addr[..4], &[10, 11, 0xf0, 0]);
        assert_eq!(p.wire_len(), 4);
    }
}
