//! What a process remembers between requests, to save a round trip: which workspace each
//! channel belongs to (never changes, so never stale), and where a task or card last stood
//! in its list (may be stale, so only ever a guess that a read in the same round trip
//! confirms). Each map is bounded and starts over when full, so a process never holds more
//! than a few MiB of them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use crate::ids::{CardId, ChannelId, ColumnId, TaskId, WorkspaceId};

/// Entries a map holds at most before it starts over, unless made [`Remembered::bounded`].
pub const REMEMBERED_MAX: usize = 50_000;

/// A bounded per-process map: when full, the next new key starts it over. Shared by every
/// clone of the store.
#[derive(Debug)]
pub struct Remembered<K, V> {
    entries: Mutex<HashMap<K, V>>,
    max: usize,
}

impl<K, V> Default for Remembered<K, V> {
    fn default() -> Self {
        Self::bounded(REMEMBERED_MAX)
    }
}

impl<K, V> Remembered<K, V> {
    /// A map of at most `max` entries (at least one).
    pub fn bounded(max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Remembered<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    pub fn remember(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.max && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    pub fn forget(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a task stood: its list (open or done) and its position there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPlace {
    pub done: bool,
    pub position: String,
}

/// Where a card stood: its column and its position there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPlace {
    pub column_id: ColumnId,
    pub position: String,
}

/// Everything a process remembers.
#[derive(Debug, Default)]
pub struct Memory {
    /// Which workspace each channel belongs to.
    pub channel_homes: Remembered<ChannelId, WorkspaceId>,
    pub task_places: Remembered<TaskId, TaskPlace>,
    pub card_places: Remembered<CardId, CardPlace>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_stays_bounded() {
        let homes: Remembered<ChannelId, WorkspaceId> = Remembered::default();
        let workspace = WorkspaceId::generate();
        let first = ChannelId::generate();
        assert_eq!(homes.get(&first), None);
        homes.remember(first, workspace);
        assert_eq!(homes.get(&first), Some(workspace));
        for _ in 1..REMEMBERED_MAX {
            homes.remember(ChannelId::generate(), workspace);
        }
        assert_eq!(homes.len(), REMEMBERED_MAX);
        // Updating a known key never starts over.
        homes.remember(first, workspace);
        assert_eq!(homes.len(), REMEMBERED_MAX);
        // Full: the next new key starts the map over.
        let next = ChannelId::generate();
        homes.remember(next, workspace);
        assert_eq!(homes.len(), 1);
        assert_eq!(homes.get(&next), Some(workspace));
        assert_eq!(homes.get(&first), None);
        homes.forget(&next);
        assert!(homes.is_empty());
    }

    #[test]
    fn a_bounded_map_starts_over_at_its_own_bound() {
        let small: Remembered<ChannelId, WorkspaceId> = Remembered::bounded(2);
        let workspace = WorkspaceId::generate();
        for _ in 0..2 {
            small.remember(ChannelId::generate(), workspace);
        }
        assert_eq!(small.len(), 2);
        small.remember(ChannelId::generate(), workspace);
        assert_eq!(small.len(), 1);
    }
}
