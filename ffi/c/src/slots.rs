//! A fixed table of what a port has lent out (loans, samples), named by
//! small values that carry a generation: a value used after it was
//! consumed names nothing and is refused. Allocated once, with the port.

/// `len` slots, each empty or holding a `T`.
pub(crate) struct Slots<T> {
    items: Vec<Option<T>>,
    generations: Vec<u32>,
}

impl<T> Slots<T> {
    pub fn new(len: usize) -> Self {
        Self { items: (0..len).map(|_| None).collect(), generations: vec![1; len] }
    }

    /// Stores `value`: its handle (never 0), or `value` back if every slot
    /// is taken.
    pub fn insert(&mut self, value: T) -> Result<u64, T> {
        let Some(i) = self.items.iter().position(Option::is_none) else { return Err(value) };
        self.items[i] = Some(value);
        Ok((u64::from(self.generations[i]) << 32) | (i as u64 + 1))
    }

    fn index(&self, handle: u64) -> Option<usize> {
        let i = (handle & 0xffff_ffff).checked_sub(1)? as usize;
        (i < self.items.len() && u64::from(self.generations[i]) == handle >> 32 && self.items[i].is_some()).then_some(i)
    }

    /// The value a handle names, with a lifetime of the table's storage.
    pub fn get(&self, handle: u64) -> Option<&T> {
        self.index(handle).and_then(|i| self.items[i].as_ref())
    }

    /// Takes out (and drops) every value for which `f` holds.
    pub fn take_where(&mut self, mut f: impl FnMut(&T) -> bool) {
        for i in 0..self.items.len() {
            if self.items[i].as_ref().is_some_and(&mut f) {
                self.generations[i] = self.generations[i].wrapping_add(1).max(1);
                self.items[i] = None;
            }
        }
    }

    /// Whether any value satisfies `f`.
    pub fn any(&self, f: impl FnMut(&T) -> bool) -> bool {
        self.items.iter().flatten().any(f)
    }

    /// Takes the value out; its handle names nothing from then on.
    pub fn take(&mut self, handle: u64) -> Option<T> {
        let i = self.index(handle)?;
        self.generations[i] = self.generations[i].wrapping_add(1).max(1);
        self.items[i].take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_handle_names_nothing_and_the_slot_comes_back_with_a_new_one() {
        let mut s = Slots::new(2);
        let (a, b) = (s.insert("a").unwrap(), s.insert("b").unwrap());
        assert_eq!(s.insert("c"), Err("c"), "full");
        assert_eq!(s.take(a), Some("a"));
        assert_eq!(s.take(a), None, "twice");
        assert_eq!(s.get(a), None);
        let c = s.insert("c").unwrap();
        assert_ne!(c, a, "the reused slot has a new generation");
        assert_eq!(s.get(a), None);
        assert_eq!((s.get(b), s.get(c)), (Some(&"b"), Some(&"c")));
        assert_eq!(s.get(0), None);
        assert_eq!(s.get(u64::MAX), None);
    }
}
