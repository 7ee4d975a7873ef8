//! What a receiver knows: one bit per prefix of the [`PrefixPlan`], so that a
//! duplicate announcement or an implicit replacement (RFC 4271 §3.1) is counted
//! once, and a withdrawal (classic or MP_UNREACH_NLRI, RFC 4760 §4) takes the
//! prefix back. With ADD-PATH (RFC 7911) a prefix counts while any path of it
//! is announced.

use std::collections::HashSet;

use nexthop_core::wire::update::Update;

use crate::routes::PrefixPlan;

/// A receiver's table of prefixes.
#[derive(Debug, Clone)]
pub struct PrefixTable {
    bits: Vec<u64>,
    count: u32,
    /// With ADD-PATH: paths per prefix, and the (index, path id) pairs present.
    paths: Option<(Vec<u16>, HashSet<u64>)>,
    /// Announcements of prefixes outside the plan (the DUT's own routes, say).
    pub unexpected: u64,
}

/// What one UPDATE changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Prefixes that became present.
    pub added: u32,
    /// Prefixes that went away.
    pub removed: u32,
}

impl PrefixTable {
    /// An empty table for `total` indices.
    pub fn new(total: u32) -> Self {
        PrefixTable {
            bits: vec![0; (total as usize).div_ceil(64)],
            count: 0,
            paths: None,
            unexpected: 0,
        }
    }

    /// Prefixes present.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether prefix `index` is present.
    pub fn contains(&self, index: u32) -> bool {
        let (w, b) = ((index / 64) as usize, index % 64);
        self.bits.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    /// Forgets everything (the session went down, RFC 4271 §9.1.3 routes withdrawn).
    pub fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.count = 0;
        if let Some((counts, set)) = &mut self.paths {
            counts.iter_mut().for_each(|c| *c = 0);
            set.clear();
        }
    }

    fn set(&mut self, index: u32, on: bool) -> bool {
        let (w, b) = ((index / 64) as usize, index % 64);
        let Some(word) = self.bits.get_mut(w) else {
            return false;
        };
        let was = *word & (1 << b) != 0;
        if on {
            *word |= 1 << b;
        } else {
            *word &= !(1 << b);
        }
        match (was, on) {
            (false, true) => {
                self.count += 1;
                true
            }
            (true, false) => {
                self.count -= 1;
                true
            }
            _ => false,
        }
    }

    fn path_change(&mut self, index: u32, path_id: u32, announce: bool) -> bool {
        let total = self.bits.len() * 64;
        let (counts, set) = self
            .paths
            .get_or_insert_with(|| (vec![0; total], HashSet::new()));
        let key = (u64::from(index) << 32) | u64::from(path_id);
        let Some(c) = counts.get_mut(index as usize) else {
            return false;
        };
        if announce {
            if set.insert(key) {
                *c += 1;
                return *c == 1 && self.set(index, true);
            }
        } else if set.remove(&key) {
            *c -= 1;
            return *c == 0 && self.set(index, false);
        }
        false
    }

    /// Applies an UPDATE: withdrawals first, then announcements (RFC 4271 §4.3);
    /// a treat-as-withdraw UPDATE (RFC 7606 §2) withdraws what it announces.
    pub fn apply(&mut self, update: &Update<'_>, plan: &PrefixPlan) -> Applied {
        let mut out = Applied::default();
        for n in update.all_withdrawn() {
            if let Some(i) = plan.index(&n.prefix) {
                let changed = match n.path_id {
                    Some(id) => self.path_change(i, id, false),
                    None => self.set(i, false),
                };
                out.removed += u32::from(changed);
            }
        }
        let withdraw_all = update.treat_as_withdraw().is_some();
        for n in update.all_announced() {
            let Some(i) = plan.index(&n.prefix) else {
                self.unexpected += u64::from(!withdraw_all);
                continue;
            };
            let changed = match n.path_id {
                Some(id) => self.path_change(i, id, !withdraw_all),
                None => self.set(i, !withdraw_all),
            };
            if withdraw_all {
                out.removed += u32::from(changed);
            } else {
                out.added += u32::from(changed);
            }
        }
        out
    }
}
