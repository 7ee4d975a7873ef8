//! The page rate of a 1M-prefix dump through the cursor (`Rib::iter_after`), as
//! the control API walks it: a figure printed, not a threshold. Run with
//! `cargo test --release -p nexthop-router --test dump_rate -- --ignored --nocapture`.

mod common;
use common::*;

use std::time::Instant as Wall;

use nexthop_router::peer::SessionParams;
use nexthop_router::prefix::Ipv4Prefix;
use nexthop_router::rib::Entry;

#[test]
#[ignore]
fn dump_1m_prefixes_by_pages() {
    const N: u32 = 1 << 20;
    const PAGE: usize = 1000;
    let mut r = router(65000, "192.0.2.1");
    let p = r.add_peer(peer("10.0.0.1", 65001));
    r.handle_session_up(p, SessionParams::ipv4(ip("10.0.0.1")), T0);
    let prefixes: Vec<(u32, Ipv4Prefix)> = (0..N)
        .map(|i| (0, Ipv4Prefix::new((i << 8).into(), 24).unwrap()))
        .collect();
    for chunk in prefixes.chunks(4096) {
        r.handle_update(p, &[], chunk, Some(attrs(&[65001, 64512], "10.0.0.1")), T0)
            .unwrap();
    }
    settle(&mut r, T0, &[], &mut []);
    let rib = r.rib::<Ipv4Prefix>();
    assert_eq!(rib.len(), N as usize);

    let start = Wall::now();
    let mut cursor: Option<Ipv4Prefix> = None;
    let (mut pages, mut seen, mut paths) = (0u32, 0usize, 0usize);
    loop {
        let mut last = None;
        let mut n = 0;
        for (prefix, e) in rib.iter_after(cursor.as_ref()).take(PAGE) {
            let e: Entry<'_> = e;
            paths += e.paths.len();
            last = Some(*prefix);
            n += 1;
        }
        seen += n;
        pages += 1;
        match last {
            Some(l) if n == PAGE => cursor = Some(l),
            _ => break,
        }
    }
    let t = start.elapsed();
    assert_eq!((seen, paths), (N as usize, N as usize));
    println!(
        "1M-prefix dump: {pages} pages of {PAGE} in {:.1} ms: {:.0} pages/s, {:.1} M prefixes/s, {:.2} us per page start+walk",
        t.as_secs_f64() * 1e3,
        f64::from(pages) / t.as_secs_f64(),
        seen as f64 / t.as_secs_f64() / 1e6,
        t.as_secs_f64() * 1e6 / f64::from(pages)
    );
}
