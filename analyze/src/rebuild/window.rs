//! Items numbered in the order they came (requests, calls), of which only the recent ones are
//! kept: the oldest are retired from the front once nothing can change them any more, and an
//! old one that must stay (a request still open after minutes) is set aside, so that it does
//! not hold every later one in memory behind it.
//!
//! Without retiring, it is a plain vector: ids are positions.

use std::collections::VecDeque;

use crate::model::events::IdMap;

/// What to do with the front item (see [`Window::retire_front`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It is done with: hand it over and look at the next.
    Retire,
    /// It must stay but not hold the others back: keep it aside and look at the next.
    Aside,
    /// It and everything after it stay for now.
    Stop,
}

/// Items by id: `base` and on in `items` (`None` once taken), older ones set aside.
#[derive(Debug)]
pub struct Window<T> {
    base: u32,
    items: VecDeque<Option<T>>,
    aside: IdMap<u32, T>,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            base: 0,
            items: VecDeque::new(),
            aside: IdMap::default(),
        }
    }
}

impl<T> Window<T> {
    /// Room for `n` items without growing.
    pub fn with_capacity(n: usize) -> Self {
        Window {
            items: VecDeque::with_capacity(n),
            ..Self::default()
        }
    }

    /// Adds `item`; its id.
    pub fn push(&mut self, item: T) -> u32 {
        // Four billion items would not fit in memory; saturating only guards a wrap.
        let id = u32::try_from(self.issued()).unwrap_or(u32::MAX);
        self.items.push_back(Some(item));
        id
    }

    /// How many ids were given out.
    pub fn issued(&self) -> usize {
        self.base as usize + self.items.len()
    }

    /// How many items are kept.
    pub fn kept(&self) -> usize {
        self.items.iter().filter(|t| t.is_some()).count() + self.aside.len()
    }

    /// The item `id`, unless it was retired.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&T> {
        let slot = id
            .checked_sub(self.base)
            .and_then(|i| self.items.get(i as usize));
        match slot {
            Some(Some(item)) => Some(item),
            // Before the base, or taken from its slot: aside, or retired.
            _ => self.aside.get(&id),
        }
    }

    /// The item `id` to change, unless it was retired.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        let slot = id
            .checked_sub(self.base)
            .and_then(|i| self.items.get_mut(i as usize));
        match slot {
            Some(Some(item)) => Some(item),
            _ => self.aside.get_mut(&id),
        }
    }

    /// The newest items, up to `n`, newest last (they are never aside).
    pub fn newest_mut(&mut self, n: usize) -> impl DoubleEndedIterator<Item = &mut T> {
        let from = self.items.len().saturating_sub(n);
        self.items.range_mut(from..).flatten()
    }

    /// Judges the items from the front, in id order, until one must stay: retired ones go to
    /// `done` with their ids.
    pub fn retire_front(
        &mut self,
        mut judge: impl FnMut(u32, &T) -> Verdict,
        mut done: impl FnMut(u32, T),
    ) {
        while let Some(slot) = self.items.front() {
            let id = self.base;
            let verdict = slot
                .as_ref()
                .map_or(Verdict::Retire, |item| judge(id, item));
            if verdict == Verdict::Stop {
                break;
            }
            if let Some(item) = self.items.pop_front().flatten() {
                match verdict {
                    Verdict::Aside => {
                        self.aside.insert(id, item);
                    }
                    _ => done(id, item),
                }
            }
            self.base += 1;
        }
    }

    /// Judges the items set aside (in no particular order): `Retire` hands one to `done`;
    /// anything else keeps it.
    pub fn retire_aside(
        &mut self,
        mut judge: impl FnMut(u32, &T) -> Verdict,
        mut done: impl FnMut(u32, T),
    ) {
        let ready: Vec<u32> = self
            .aside
            .iter()
            .filter(|(id, item)| judge(**id, item) == Verdict::Retire)
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            if let Some(item) = self.aside.remove(&id) {
                done(id, item);
            }
        }
    }

    /// The id of the oldest item kept, if any.
    pub fn oldest_kept(&self) -> Option<u32> {
        let in_front = self
            .items
            .iter()
            .position(Option::is_some)
            .map(|i| self.base + i as u32);
        let aside = self.aside.keys().min().copied();
        match (in_front, aside) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Every item kept, in id order, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        let mut aside: Vec<(u32, &T)> = self.aside.iter().map(|(id, t)| (*id, t)).collect();
        aside.sort_unstable_by_key(|(id, _)| *id);
        let base = self.base;
        aside.into_iter().chain(
            self.items
                .iter()
                .enumerate()
                .filter_map(move |(i, t)| Some((base + i as u32, t.as_ref()?))),
        )
    }

    /// Hands every item kept to `each`, in id order, with its id, leaving none.
    pub fn drain_each(&mut self, mut each: impl FnMut(u32, T)) {
        let mut aside: Vec<(u32, T)> = self.aside.drain().collect();
        aside.sort_unstable_by_key(|(id, _)| *id);
        aside.into_iter().for_each(|(id, t)| each(id, t));
        self.retire_front(|_, _| Verdict::Retire, each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positions_until_the_front_retires() {
        let mut w = Window::default();
        let ids: Vec<u32> = (0..10_000).map(|i| w.push(i)).collect();
        assert_eq!(ids[9_999], 9_999);
        assert_eq!(w.get(42), Some(&42));
        let mut retired = Vec::new();
        // Retire up to 5000, except 7 (set aside: still wanted); stop at 5000.
        w.retire_front(
            |id, _| match id {
                7 => Verdict::Aside,
                id if id < 5_000 => Verdict::Retire,
                _ => Verdict::Stop,
            },
            |id, v| retired.push((id, v)),
        );
        assert_eq!(retired.len(), 4_999);
        assert_eq!(
            (w.get(6), w.get(7), w.get(5_000)),
            (None, Some(&7), Some(&5_000))
        );
        assert_eq!(w.kept(), 5_001);
        // The prefix was dropped; ids go on.
        assert_eq!(w.push(10_000), 10_000);
        assert_eq!(w.get(10_000), Some(&10_000));
        *w.get_mut(7).expect("aside") = 70;
        let mut later = Vec::new();
        w.retire_aside(
            |_, v| {
                if *v == 70 {
                    Verdict::Retire
                } else {
                    Verdict::Stop
                }
            },
            |id, v| later.push((id, v)),
        );
        assert_eq!(later, [(7, 70)]);
        assert_eq!(w.get(7), None);
        let mut all = Vec::new();
        w.drain_each(|id, v| all.push((id, v)));
        assert_eq!(all.first(), Some(&(5_000, 5_000)));
        assert_eq!(all.len(), 5_001);
        assert_eq!(w.kept(), 0);
    }

    #[test]
    fn iteration_is_in_id_order_with_the_aside_first() {
        let mut w = Window::default();
        for i in 0..5 {
            w.push(i * 10);
        }
        w.retire_front(
            |id, _| {
                if id < 2 {
                    Verdict::Aside
                } else {
                    Verdict::Stop
                }
            },
            |_, _| {},
        );
        let ids: Vec<u32> = w.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        // Set aside before the prefix is dropped: still found by id.
        assert_eq!((w.get(0), w.get(1)), (Some(&0), Some(&10)));
        *w.get_mut(1).expect("aside") = 11;
        assert_eq!(w.get(1), Some(&11));
        assert_eq!(w.newest_mut(2).map(|v| *v).collect::<Vec<_>>(), [30, 40]);
    }
}
