//! The matched segment keys of an evaluation, held inline for the usual few (no allocation).

use std::ops::Deref;

/// How many keys are held without allocating.
const INLINE: usize = 4;

/// Keys of the matched segments, in the order the rule or rollout lists them.
#[derive(Clone)]
pub struct SegmentKeys<'f>(Repr<'f>);

#[derive(Clone)]
enum Repr<'f> {
    Inline { len: u8, keys: [&'f str; INLINE] },
    Heap(Vec<&'f str>),
}

impl Default for SegmentKeys<'_> {
    fn default() -> Self {
        SegmentKeys(Repr::Inline {
            len: 0,
            keys: [""; INLINE],
        })
    }
}

impl<'f> SegmentKeys<'f> {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a key.
    pub fn push(&mut self, key: &'f str) {
        match &mut self.0 {
            Repr::Inline { len, keys } if usize::from(*len) < INLINE => {
                keys[usize::from(*len)] = key;
                *len += 1;
            }
            Repr::Inline { len, keys } => {
                let mut v = Vec::with_capacity(INLINE * 2);
                v.extend_from_slice(&keys[..usize::from(*len)]);
                v.push(key);
                self.0 = Repr::Heap(v);
            }
            Repr::Heap(v) => v.push(key),
        }
    }
}

impl<'f> Deref for SegmentKeys<'f> {
    type Target = [&'f str];

    fn deref(&self) -> &[&'f str] {
        match &self.0 {
            Repr::Inline { len, keys } => &keys[..usize::from(*len)],
            Repr::Heap(v) => v,
        }
    }
}

impl std::fmt::Debug for SegmentKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for SegmentKeys<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SegmentKeys<'_> {}

impl PartialEq<Vec<&str>> for SegmentKeys<'_> {
    fn eq(&self, other: &Vec<&str>) -> bool {
        **self == other[..]
    }
}

impl serde::Serialize for SegmentKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_any_number_of_keys_in_order() {
        for n in 0..12 {
            let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let mut keys = SegmentKeys::new();
            for k in &names {
                keys.push(k);
            }
            let want: Vec<&str> = names.iter().map(String::as_str).collect();
            assert_eq!(keys, want);
            assert_eq!(keys.len(), n);
            assert_eq!(
                serde_json::to_string(&keys).ok(),
                serde_json::to_string(&want).ok()
            );
        }
    }
}
