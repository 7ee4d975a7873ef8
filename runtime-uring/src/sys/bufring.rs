//! A provided-buffer ring (kernel 5.19, `IORING_REGISTER_PBUF_RING`): a pool of
//! receive buffers the kernel picks from when a multishot receive has data, so a
//! connection holds a buffer only between a completion and its recycling.
//!
//! Both allocations (the ring of descriptors and the buffer memory) are made here with
//! `std::alloc`, never through a Rust reference the kernel could write behind, and are
//! freed only after the ring has been unregistered (or leaked when that fails).

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::IoUring;
use io_uring::types::BufRingEntry;

/// Page alignment the kernel requires of the descriptor ring.
const PAGE: usize = 4096;

pub(crate) struct ProvidedBuffers {
    /// `entries` descriptors, page aligned, shared with the kernel.
    ring: *mut BufRingEntry,
    ring_layout: Layout,
    /// `entries * buf_size` bytes the kernel writes received data into.
    memory: *mut u8,
    memory_layout: Layout,
    entries: u16,
    buf_size: u32,
    /// Our producer index; published to the kernel through the ring's tail field.
    tail: u16,
    group: u16,
    registered: bool,
}

impl ProvidedBuffers {
    /// `entries` (a power of two, at most 32768) buffers of `buf_size` bytes,
    /// registered on `ring` as buffer group `group`, all handed to the kernel.
    pub(crate) fn new(ring: &IoUring, group: u16, entries: u16, buf_size: u32) -> io::Result<Self> {
        if !entries.is_power_of_two() || entries > 32768 || buf_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "buffer ring size",
            ));
        }
        let ring_layout =
            Layout::from_size_align(usize::from(entries) * size_of::<BufRingEntry>(), PAGE)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "buffer ring layout"))?;
        let memory_layout = Layout::from_size_align(usize::from(entries) * buf_size as usize, PAGE)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "buffer memory layout"))?;
        // SAFETY: both layouts have a non-zero size (entries >= 1, buf_size >= 1).
        let ring_ptr = unsafe { alloc_zeroed(ring_layout) }.cast::<BufRingEntry>();
        // SAFETY: as above.
        let memory = unsafe { alloc_zeroed(memory_layout) };
        if ring_ptr.is_null() || memory.is_null() {
            // SAFETY: each non-null pointer came from alloc_zeroed with its layout.
            unsafe {
                if !ring_ptr.is_null() {
                    dealloc(ring_ptr.cast(), ring_layout);
                }
                if !memory.is_null() {
                    dealloc(memory, memory_layout);
                }
            }
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, "buffer ring"));
        }
        let mut this = ProvidedBuffers {
            ring: ring_ptr,
            ring_layout,
            memory,
            memory_layout,
            entries,
            buf_size,
            tail: 0,
            group,
            registered: false,
        };
        // SAFETY: the descriptor ring stays allocated until `Drop`, which unregisters
        // it first (and leaks both allocations if that fails).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(ring_ptr as u64, entries, group, 0)?;
        }
        this.registered = true;
        for bid in 0..entries {
            this.push(bid);
        }
        this.publish();
        Ok(this)
    }

    /// The buffer group id to name in a receive.
    pub(crate) fn group(&self) -> u16 {
        self.group
    }

    /// The `len` bytes the kernel wrote into buffer `bid`. The caller owns the buffer
    /// from the completion that named it until [`Self::recycle`].
    pub(crate) fn data(&self, bid: u16, len: usize) -> &[u8] {
        let bid = bid % self.entries;
        let len = len.min(self.buf_size as usize);
        // SAFETY: `bid < entries`, so the range lies inside `memory`; the kernel wrote
        // it before posting the completion that handed `bid` to us and does not touch
        // it again until `recycle(bid)` gives it back, which needs `&mut self` and so
        // cannot happen while this borrow lives.
        unsafe {
            std::slice::from_raw_parts(
                self.memory.add(usize::from(bid) * self.buf_size as usize),
                len,
            )
        }
    }

    /// Gives buffer `bid` back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        self.push(bid % self.entries);
        self.publish();
    }

    fn push(&mut self, bid: u16) {
        let mask = self.entries - 1;
        let index = usize::from(self.tail & mask);
        // SAFETY: `index < entries`: the slot is inside the descriptor allocation, and
        // the kernel reads slots only up to the published tail, which this slot is
        // beyond until `publish`.
        let entry = unsafe { &mut *self.ring.add(index) };
        // SAFETY: `bid < entries`: the address is inside `memory`, which lives until Drop.
        let addr = unsafe { self.memory.add(usize::from(bid) * self.buf_size as usize) };
        entry.set_addr(addr as u64);
        entry.set_len(self.buf_size);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    fn publish(&self) {
        // SAFETY: the tail field overlays the first descriptor's reserved field, inside
        // the allocation; the kernel reads it with acquire ordering, so a release store
        // publishes the descriptors written before it.
        unsafe {
            let tail = BufRingEntry::tail(self.ring).cast::<AtomicU16>();
            (*tail).store(self.tail, Ordering::Release);
        }
    }

    /// Unregisters the ring from `ring`; after this, the memory is ours alone.
    pub(crate) fn unregister(&mut self, ring: &IoUring) {
        if self.registered && ring.submitter().unregister_buf_ring(self.group).is_ok() {
            self.registered = false;
        }
    }
}

impl Drop for ProvidedBuffers {
    fn drop(&mut self) {
        if self.registered {
            // The kernel may still hold the addresses: leak rather than free.
            return;
        }
        // SAFETY: unregistered, so the kernel keeps no pointer into either allocation;
        // both came from alloc_zeroed with these layouts.
        unsafe {
            dealloc(self.ring.cast(), self.ring_layout);
            dealloc(self.memory, self.memory_layout);
        }
    }
}
