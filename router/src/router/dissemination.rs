//! Phase 3 of the decision process (RFC 4271 §9.1.3): route dissemination. The
//! Loc-RIB's changes are handed to each update group, and at the group's flush the
//! paths to send are compared with its Adj-RIB-Out and the differences encoded
//! once for all members.

use super::*;
use crate::group::{MemoKey, out_class};

impl Router {
    pub(super) fn decide<P: RoutePrefix>(&mut self) {
        if self.ribs.get::<P>().pending() == 0 {
            return;
        }
        let mut changes: Vec<Change<P>> = Vec::new();
        let ctx = Ctx {
            local: &self.local,
            facts: &self.facts,
            igp_cost: self.igp_cost.as_ref(),
            options: &self.config.decision,
        };
        let rib = self.ribs.get_mut::<P>();
        rib.set_clock((self.now.total_millis() / 1000).min(u64::from(u32::MAX)) as u32);
        rib.decide(&self.config.decision, |p| ctx.key_of(p), &mut changes);
        if self.config.report_loc_rib {
            self.loc_rib_changes.extend(
                changes
                    .iter()
                    .filter(|c| c.best_changed)
                    .map(|c| c.prefix.to_ip_prefix()),
            );
        }
        let now = self.now;
        for group in self.groups.iter_mut().flatten() {
            let Some(mode) = group.key.mode::<P>() else {
                continue;
            };
            let all_paths = mode != AddPathSend::BestOnly;
            let mut any = false;
            let fam = group.families.get_mut::<P>();
            for c in &changes {
                if c.best_changed || all_paths {
                    fam.mark(c.prefix);
                    any = true;
                }
            }
            if any {
                group.schedule(now);
            }
        }
    }

    pub(super) fn flush_group(&mut self, g: usize, now: Instant) {
        self.purge_tombstones(g);
        let Some(mut group) = self.groups[g].take() else {
            return;
        };
        group.version = group.version.saturating_add(1);
        group.flush_at = None;
        group.last_flush = Some(now);
        self.flush_family::<Ipv4Prefix>(&mut group);
        self.flush_family::<Ipv6Prefix>(&mut group);
        self.groups[g] = Some(group);
    }

    /// Phase 3 for one group and family: the pending prefixes' export paths are
    /// compared with the Adj-RIB-Out, and the differences encoded once and handed
    /// to the members.
    pub(super) fn flush_family<P: RoutePrefix>(&mut self, group: &mut UpdateGroup) {
        let Some(mode) = group.key.mode::<P>() else {
            return;
        };
        let pending = group.families.get_mut::<P>().take_pending();
        if pending.is_empty() {
            return;
        }
        let ctx = Ctx {
            local: &self.local,
            facts: &self.facts,
            igp_cost: self.igp_cost.as_ref(),
            options: &self.config.decision,
        };
        let rib = self.ribs.get::<P>();
        let version = group.version;
        let mut batch: Batch<P> = Batch::default();
        let mut desired = Vec::new();
        let mut scratch = Scratch::default();
        let members = MemberSet::new(&group.members);
        for prefix in pending {
            desired.clear();
            export_paths(
                &ctx,
                rib,
                &mut self.store,
                group,
                mode,
                prefix,
                &mut desired,
                &mut scratch,
            );
            let except = |src: PeerId| {
                if members.contains(src) {
                    Audience::AllExcept(src)
                } else {
                    Audience::All
                }
            };
            let fam = group.families.get_mut::<P>();
            let before = out_class(fam.adj_rib_out.get(&prefix));
            let entry = fam.adj_rib_out.get_or_insert_with(prefix, OutPaths::new);
            if mode == AddPathSend::BestOnly {
                diff_best(
                    entry,
                    desired.first(),
                    version,
                    prefix,
                    &members,
                    &except,
                    &mut batch,
                );
            } else {
                diff_all(entry, &desired, version, prefix, &except, &mut batch);
            }
            if entry
                .iter()
                .any(|o| o.attrs.is_none() && o.version == version)
            {
                fam.tombstones.push_back((prefix, version));
            }
            let after = out_class(Some(entry));
            if entry.is_empty() {
                fam.adj_rib_out.remove(&prefix);
            }
            fam.recount(before, after);
        }
        if batch.is_empty() {
            return;
        }
        let params = group.key.params::<P>();
        let listening: Vec<PeerId> = group
            .members
            .iter()
            .copied()
            .filter(|m| self.peers[m.0 as usize].output.catch_up.is_none())
            .collect();
        let limit = self.config.output_limit;
        let peers = &mut self.peers;
        let stats = &mut self.stats;
        let ready = &mut self.ready;
        let keep = self.config.keep_message_content;
        let encoded = batch.encode(
            &mut self.encoder,
            &params,
            keep,
            |a| listening.iter().any(|&m| a.includes(m)),
            |a, msg| {
                for &m in &listening {
                    if a.includes(m) {
                        deliver(
                            m,
                            &mut peers[m.0 as usize],
                            &msg,
                            version,
                            limit,
                            stats,
                            ready,
                        );
                    }
                }
            },
        );
        self.stats.encoded_messages += encoded;
    }
}

/// A group's members, for a membership test that does not scan them (it is
/// asked for every prefix of a flush).
pub(super) struct MemberSet(Vec<bool>);

impl MemberSet {
    pub(super) fn new(members: &[PeerId]) -> Self {
        let len = members.iter().map(|m| m.0 as usize + 1).max().unwrap_or(0);
        let mut is = vec![false; len];
        for m in members {
            is[m.0 as usize] = true;
        }
        MemberSet(is)
    }

    pub(super) fn contains(&self, peer: PeerId) -> bool {
        self.0.get(peer.0 as usize).copied().unwrap_or(false)
    }
}

/// Working space of [`export_paths`], kept across the prefixes of a flush so
/// choosing paths does not allocate per prefix.
#[derive(Default)]
pub(super) struct Scratch {
    order: Vec<usize>,
    keys: Vec<SelectionKey>,
    select: Vec<usize>,
    left: Vec<usize>,
    /// The last memo entry used.
    last: Option<(MemoKey, AttrRef)>,
}

/// The paths of `prefix` that `group` is to be sent, best first: the best only,
/// every path, or the N best, each allowed by the export rules and policy, with
/// its exported attributes.
#[allow(clippy::too_many_arguments)]
pub(super) fn export_paths<P: RoutePrefix>(
    ctx: &Ctx<'_>,
    rib: &Rib<P>,
    store: &mut AttributeStore,
    group: &mut UpdateGroup,
    mode: AddPathSend,
    prefix: P,
    out: &mut Vec<(PeerId, u32, AttrRef)>,
    scratch: &mut Scratch,
) {
    let Some(paths) = rib.decided(&prefix) else {
        return;
    };
    let order = &mut scratch.order;
    order.clear();
    let limit = match mode {
        AddPathSend::BestOnly => {
            order.push(0);
            1
        }
        AddPathSend::All => {
            order.extend((0..paths.len()).filter(|&i| ctx.key_of(&paths[i]).is_some()));
            usize::MAX
        }
        AddPathSend::BestN(n) => {
            let n = usize::from(n);
            rank(
                ctx,
                paths,
                n,
                &mut scratch.keys,
                &mut scratch.select,
                &mut scratch.left,
                order,
            );
            n
        }
    };
    let key = &group.key;
    let ip = prefix.to_ip_prefix();
    for &i in order.iter() {
        if out.len() >= limit {
            break;
        }
        let path = &paths[i];
        let source = ctx.source(path.peer);
        if !export::may_advertise(source, &path.attrs, &key.target) {
            continue;
        }
        let rule = match key.export.evaluate(&ip, &path.attrs) {
            Outcome::Reject => continue,
            Outcome::Accept(r) => r,
        };
        let source_id = match source {
            Source::Ibgp { router_id, .. } => u32::from(router_id),
            _ => 0,
        };
        let memo_key = (
            path.attrs.addr(),
            path.peer,
            source_id,
            rule.unwrap_or(u16::MAX),
            P::IPV6,
        );
        // Neighbouring prefixes mostly share a source and attributes.
        if let Some((k, a)) = &scratch.last
            && *k == memo_key
        {
            out.push((path.peer, path.path_id, a.clone()));
            continue;
        }
        let exported = group
            .memo
            .entry(memo_key)
            .or_insert_with(|| {
                let mut a =
                    export::export_attributes(&path.attrs, source, &key.target, ctx.local, P::IPV6);
                if let Some(r) = rule {
                    key.export.apply(r, &mut a);
                }
                (path.attrs.clone(), store.intern(a))
            })
            .1
            .clone();
        scratch.last = Some((memo_key, exported.clone()));
        out.push((path.peer, path.path_id, exported));
    }
}

/// Indices of the `n` best of `paths` in decision order (the decision process
/// applied repeatedly to what is left).
pub(super) fn rank(
    ctx: &Ctx<'_>,
    paths: &[Path],
    n: usize,
    keys: &mut Vec<SelectionKey>,
    select: &mut Vec<usize>,
    left: &mut Vec<usize>,
    order: &mut Vec<usize>,
) {
    left.clear();
    left.extend((0..paths.len()).filter(|&i| ctx.key_of(&paths[i]).is_some()));
    while order.len() < n && !left.is_empty() {
        keys.clear();
        keys.extend(left.iter().filter_map(|&i| ctx.key_of(&paths[i])));
        let Some((j, _)) = decision::select(keys, ctx.options, select) else {
            break;
        };
        order.push(left.remove(j));
    }
}

/// Compares the one path to send without ADD-PATH with what was sent.
pub(super) fn diff_best<P: RoutePrefix>(
    entry: &mut OutPaths,
    new: Option<&(PeerId, u32, AttrRef)>,
    version: Version,
    prefix: P,
    members: &MemberSet,
    except: &dyn Fn(PeerId) -> Audience,
    batch: &mut Batch<P>,
) {
    let live = entry.iter().position(|o| o.attrs.is_some());
    match (live, new) {
        (None, None) => {}
        (Some(i), None) => {
            let o = &mut entry[i];
            batch.withdraw(except(o.source), 0, prefix);
            o.attrs = None;
            o.version = version;
        }
        (old, Some((src, src_id, attrs))) => {
            if let Some(i) = old {
                let o = &entry[i];
                if o.source == *src
                    && o.source_path_id == *src_id
                    && o.attrs.as_ref() == Some(attrs)
                {
                    return;
                }
            }
            batch.announce(except(*src), attrs, 0, prefix);
            // The new source had been sent the old path: take it back.
            if members.contains(*src) && old.is_some_and(|i| entry[i].source != *src) {
                batch.withdraw(Audience::Only(*src), 0, prefix);
            }
            entry.clear();
            entry.reserve_exact(1);
            entry.push(OutPath {
                out_id: 0,
                source: *src,
                source_path_id: *src_id,
                version,
                attrs: Some(attrs.clone()),
            });
        }
    }
}

/// Compares the paths to send with ADD-PATH with what was sent; new paths get the
/// lowest path identifier not in use for the prefix.
pub(super) fn diff_all<P: RoutePrefix>(
    entry: &mut OutPaths,
    desired: &[(PeerId, u32, AttrRef)],
    version: Version,
    prefix: P,
    except: &dyn Fn(PeerId) -> Audience,
    batch: &mut Batch<P>,
) {
    for o in entry.iter_mut().filter(|o| o.attrs.is_some()) {
        if !desired
            .iter()
            .any(|(s, id, _)| *s == o.source && *id == o.source_path_id)
        {
            batch.withdraw(except(o.source), o.out_id, prefix);
            o.attrs = None;
            o.version = version;
        }
    }
    for (src, src_id, attrs) in desired {
        if let Some(o) = entry
            .iter_mut()
            .find(|o| o.attrs.is_some() && o.source == *src && o.source_path_id == *src_id)
        {
            if o.attrs.as_ref() != Some(attrs) {
                o.attrs = Some(attrs.clone());
                o.version = version;
                batch.announce(except(*src), attrs, o.out_id, prefix);
            }
            continue;
        }
        let id = (1..)
            .find(|i| !entry.iter().any(|o| o.attrs.is_some() && o.out_id == *i))
            .unwrap_or(1);
        let path = OutPath {
            out_id: id,
            source: *src,
            source_path_id: *src_id,
            version,
            attrs: Some(attrs.clone()),
        };
        match entry.iter_mut().find(|o| o.out_id == id) {
            Some(tomb) => *tomb = path,
            None => {
                entry.reserve_exact(1);
                entry.push(path)
            }
        }
        batch.announce(except(*src), attrs, id, prefix);
    }
}
