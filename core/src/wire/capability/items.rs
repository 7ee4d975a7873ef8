//! Lists of fixed-size items inside one capability's value: the (AFI, SAFI, ...)
//! tuples of ADD-PATH (RFC 7911 §4), Graceful Restart (RFC 4724 §3) and Extended
//! Next Hop Encoding (RFC 8950 §3).

use core::fmt;
use core::slice::{ChunksExact, Iter};

/// One fixed-size item of a capability's list: how it reads and writes itself.
pub trait WireItem: Copy + Sized {
    /// Bytes one item takes on the wire.
    const LEN: usize;
    /// Reads an item from exactly [`WireItem::LEN`] bytes; `None` where the bytes
    /// hold a value this item cannot represent.
    fn decode(bytes: &[u8]) -> Option<Self>;
    /// Writes the item into exactly [`WireItem::LEN`] bytes.
    fn encode(&self, out: &mut [u8]);
}

/// A list of items: either still on the wire (parsed, validated) or a caller's
/// slice (to emit). Two lists are equal when they hold the same items in order,
/// whatever their form.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Items<'a, T: WireItem> {
    /// The items' bytes as received, a whole number of items, each decodable.
    Wire(&'a [u8]),
    /// The items themselves.
    List(&'a [T]),
}

impl<'a, T: WireItem> Items<'a, T> {
    /// Validates received bytes: a whole number of items that all decode.
    /// `Err(())` for a length that is not a multiple of the item size,
    /// `Ok(None)` for an item this crate cannot represent.
    pub(crate) fn from_wire(bytes: &'a [u8]) -> Result<Option<Self>, ()> {
        if !bytes.len().is_multiple_of(T::LEN) {
            return Err(());
        }
        if bytes.chunks_exact(T::LEN).all(|c| T::decode(c).is_some()) {
            Ok(Some(Items::Wire(bytes)))
        } else {
            Ok(None)
        }
    }

    /// The items, in order.
    pub fn iter(&self) -> ItemsIter<'a, T> {
        match *self {
            Items::Wire(b) => ItemsIter::Wire(b.chunks_exact(T::LEN)),
            Items::List(l) => ItemsIter::List(l.iter()),
        }
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        match *self {
            Items::Wire(b) => b.len() / T::LEN,
            Items::List(l) => l.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the items take on the wire.
    pub fn byte_len(&self) -> usize {
        self.len() * T::LEN
    }

    /// Writes the items into `out`, which must be [`Items::byte_len`] bytes long.
    pub(crate) fn encode(&self, out: &mut [u8]) {
        match *self {
            Items::Wire(b) => {
                let n = b.len().min(out.len());
                out[..n].copy_from_slice(&b[..n]);
            }
            Items::List(l) => {
                for (item, chunk) in l.iter().zip(out.chunks_exact_mut(T::LEN)) {
                    item.encode(chunk);
                }
            }
        }
    }
}

impl<T: WireItem + PartialEq> PartialEq for Items<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<T: WireItem + Eq> Eq for Items<'_, T> {}

/// Iterator over [`Items`].
#[derive(Clone, Debug)]
pub enum ItemsIter<'a, T> {
    /// Over received bytes.
    Wire(ChunksExact<'a, u8>),
    /// Over a caller's slice.
    List(Iter<'a, T>),
}

impl<T: WireItem> Iterator for ItemsIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            // Validated bytes always decode; a caller-built `Wire` that does not
            // simply ends the iteration there.
            ItemsIter::Wire(chunks) => chunks.next().and_then(T::decode),
            ItemsIter::List(items) => items.next().copied(),
        }
    }
}

/// Writes `items` as `[a, b, c]`, each item written by `item`.
pub(crate) fn write_list<T: WireItem>(
    f: &mut fmt::Formatter<'_>,
    items: &Items<'_, T>,
    item: impl Fn(&mut fmt::Formatter<'_>, T) -> fmt::Result,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item(f, x)?;
    }
    f.write_str("]")
}
