//! The generated UPDATE stream holds what the generator says it holds, and every
//! parser the benchmark times sees exactly that.

use bytes::Bytes;
use nexthop_benches::stream::{Counts, Stream, StreamSpec, generate};
use nexthop_benches::walk;

/// A stream 1/100 of the benchmark's, same shape.
fn small() -> Stream {
    generate(&StreamSpec::FULL_TABLE.scaled_down(100))
}

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// Walks a run of prefixes (RFC 4271 §4.3: a length octet, then just the
/// octets the length covers), checking that no bit past the length is set.
fn prefixes(c: &mut Counts, mut b: &[u8], ipv6: bool, withdrawn: bool) {
    let max_bits = if ipv6 { 128 } else { 32 };
    while let Some((&len, rest)) = b.split_first() {
        assert!(len <= max_bits, "prefix length {len}");
        let octets = usize::from(len).div_ceil(8);
        let mut addr = [0u8; 16];
        addr[..octets].copy_from_slice(&rest[..octets]);
        if len % 8 != 0 {
            assert_eq!(
                addr[octets - 1] & (0xff >> (len % 8)),
                0,
                "host bits in /{len}"
            );
        }
        if ipv6 {
            c.ipv6(withdrawn, u128::from_be_bytes(addr), len);
        } else {
            let [a, b, c4, d, ..] = addr;
            c.ipv4(withdrawn, u32::from_be_bytes([a, b, c4, d]), len);
        }
        b = &rest[octets..];
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A walk written from RFC 4271 §4.3 and RFC 4760 alone, independent of every
/// parser, to check the generator's own counts.
fn independent_walk(stream: &[u8]) -> (Counts, usize) {
    let mut c = Counts::default();
    let mut largest = 0;
    let mut at = 0;
    while at < stream.len() {
        let m = &stream[at..];
        assert_eq!(&m[..16], &[0xff; 16], "marker at {at}");
        let len = be16(m, 16);
        assert_eq!(m[18], 2, "type at {at}");
        let m = &m[..len];
        largest = largest.max(len);
        c.messages += 1;

        let withdrawn = be16(m, 19);
        prefixes(&mut c, &m[21..21 + withdrawn], false, true);
        let attrs_at = 21 + withdrawn;
        let attrs_len = be16(m, attrs_at);
        let attrs = &m[attrs_at + 2..attrs_at + 2 + attrs_len];
        prefixes(&mut c, &m[attrs_at + 2 + attrs_len..], false, false);

        let mut previous_code = 0;
        let mut a = attrs;
        while !a.is_empty() {
            let (flags, code) = (a[0], a[1]);
            assert!(code > previous_code, "attributes out of order");
            previous_code = code;
            let (value_at, value_len) = if flags & 0x10 != 0 {
                (4, be16(a, 2))
            } else {
                (3, usize::from(a[2]))
            };
            let v = &a[value_at..value_at + value_len];
            c.attributes += 1;
            match code {
                2 => {
                    let mut s = v;
                    while !s.is_empty() {
                        assert!(s[0] == 1 || s[0] == 2, "segment type");
                        let count = usize::from(s[1]);
                        (0..count).for_each(|i| c.asn(be32(s, 2 + 4 * i)));
                        s = &s[2 + 4 * count..];
                    }
                }
                4 => c.med(be32(v, 0)),
                5 => c.local_pref(be32(v, 0)),
                8 => {
                    assert_eq!(v.len() % 4, 0);
                    (0..v.len() / 4).for_each(|i| c.community(be32(v, 4 * i)));
                }
                32 => {
                    assert_eq!(v.len() % 12, 0);
                    for i in 0..v.len() / 12 {
                        c.large_community(
                            be32(v, 12 * i),
                            be32(v, 12 * i + 4),
                            be32(v, 12 * i + 8),
                        );
                    }
                }
                14 => {
                    assert_eq!(&v[..3], &[0, 2, 1], "AFI/SAFI");
                    let nh = usize::from(v[3]);
                    assert!(nh == 16 || nh == 32);
                    prefixes(&mut c, &v[4 + nh + 1..], true, false);
                }
                15 => {
                    assert_eq!(&v[..3], &[0, 2, 1], "AFI/SAFI");
                    prefixes(&mut c, &v[3..], true, true);
                }
                _ => {}
            }
            a = &a[value_at + value_len..];
        }
        at += len;
    }
    (c, largest)
}

#[test]
fn generator_counts_match_an_independent_walk() {
    let stream = small();
    let (counted, largest) = independent_walk(&stream.bytes);
    assert_eq!(counted, stream.counts);
    assert_ne!(counted.digest, 0);
    assert!(largest <= 4096, "message of {largest} bytes");
}

#[test]
fn full_table_has_the_requested_shape() {
    let spec = StreamSpec::FULL_TABLE;
    let stream = generate(&spec);
    let c = stream.counts;
    assert_eq!(c.ipv4_announced, spec.ipv4_prefixes);
    assert_eq!(c.ipv6_announced, spec.ipv6_prefixes);
    assert_eq!(c.ipv4_withdrawn, spec.ipv4_withdrawals);
    assert_eq!(c.ipv6_withdrawn, spec.ipv6_withdrawals);
    let (counted, largest) = independent_walk(&stream.bytes);
    assert_eq!(counted, c);
    // Packing: long runs fill messages up to the limit and no further.
    assert!(
        (4000..=4096).contains(&largest),
        "largest message {largest} bytes"
    );
    // Real-looking: several attributes per message, communities on most paths.
    let announcements = c.messages as f64;
    assert!(c.attributes as f64 / announcements > 3.0, "{c:?}");
    assert!(c.as_path_asns as f64 / announcements > 3.0, "{c:?}");
    assert!(c.communities > c.messages, "{c:?}");
    assert!(c.large_communities > 0, "{c:?}");
}

#[test]
fn bgpkit_parser_counts_what_the_generator_put_in() {
    let stream = small();
    assert_eq!(
        walk::bgpkit::walk(&Bytes::from(stream.bytes)),
        stream.counts
    );
}

#[test]
fn routecore_counts_what_the_generator_put_in() {
    let stream = small();
    assert_eq!(walk::routecore::walk(&stream.bytes), stream.counts);
}

#[test]
fn nexthop_counts_what_the_generator_put_in() {
    let stream = small();
    assert_eq!(walk::nexthop::walk(&stream.bytes), stream.counts);
}
